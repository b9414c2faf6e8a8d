package ingest

import (
	"fmt"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// failure is a source's run of consecutive failed polls. It keeps the first error as well as the
// last: the first is usually the cause, and the history of later polls only says "backing off".
type failure struct {
	count    int
	until    time.Time
	firstAt  time.Time
	firstErr string
	lastErr  string
	// next gives the waits of this run: Poller.BackoffBase doubled per failure up to BackoffMax,
	// without jitter (sources are polled on their own schedules, so they do not fail in step).
	next *backoff.ExponentialBackOff
}

func (f failure) String() string {
	failures := "failures"
	if f.count == 1 {
		failures = "failure"
	}
	s := fmt.Sprintf("until %s after %d %s; first error at %s: %s", f.until.Format(time.TimeOnly), f.count, failures, f.firstAt.Format(time.TimeOnly), f.firstErr)
	if f.count > 1 {
		s += "; last error: " + f.lastErr
	}
	return s
}

func (p *Poller) backingOff(name string) (failure, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.failures[name]
	return f, p.now().Before(f.until)
}

func (p *Poller) failed(name string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failures == nil {
		p.failures = map[string]failure{}
	}
	f := p.failures[name]
	f.count++
	// Poll's errors start with "ingest <name>: ", which the back-off error says already.
	msg := strings.TrimPrefix(err.Error(), "ingest "+name+": ")
	if f.count == 1 {
		f.firstAt, f.firstErr = p.now(), msg
		base := p.BackoffBase
		if base <= 0 || base > p.BackoffMax {
			base = p.BackoffMax
		}
		f.next = &backoff.ExponentialBackOff{InitialInterval: base, Multiplier: 2, MaxInterval: p.BackoffMax}
	}
	f.lastErr = msg
	f.until = p.now().Add(f.next.NextBackOff())
	p.failures[name] = f
}

func (p *Poller) succeeded(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.failures, name)
}
