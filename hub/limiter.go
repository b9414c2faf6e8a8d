package hub

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxClients bounds the client addresses whose limiters are kept; past it, idle ones are
// forgotten, and when none is idle every limiter is, so that a flood of addresses cannot grow
// memory without bound. Forgetting only ever lets a client in sooner.
const maxClients = 10000

// limiter is a token bucket per client address.
type limiter struct {
	r     rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*client
}

type client struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(perSecond float64, burst int, now func() time.Time) *limiter {
	return &limiter{r: rate.Limit(perSecond), burst: burst, now: now, clients: map[string]*client{}}
}

// allow takes a token from ip's bucket, and reports whether there was one.
func (l *limiter) allow(ip string) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.clients[ip]
	if !ok {
		if len(l.clients) >= maxClients {
			l.forget(now)
		}
		c = &client{l: rate.NewLimiter(l.r, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	return c.l.AllowN(now, 1)
}

// forget drops limiters idle long enough to have refilled, or all of them when none has.
func (l *limiter) forget(now time.Time) {
	full := time.Duration(float64(l.burst) / float64(l.r) * float64(time.Second))
	for ip, c := range l.clients {
		if now.Sub(c.seen) > full {
			delete(l.clients, ip)
		}
	}
	if len(l.clients) >= maxClients {
		clear(l.clients)
	}
}
