package hub

import (
	"sync"
	"time"
)

// hostGate bounds the deliveries in flight to each callback host, so that a slow or dead host
// holds at most that many of its lane's slots: the rest of the lane, other hosts' subscribers,
// keeps being served (issue #18: a slow or dead subscriber never delays others). A delivery
// over the bound is postponed, not waited for, since waiting would hold the slot anyway. The
// counts are this replica's: replicas sharing the queue each allow a host max in flight.
type hostGate struct {
	max int
	now func() time.Time

	mu    sync.Mutex
	hosts map[string]*hostLoad
}

type hostLoad struct {
	n     int
	since time.Time // since when the host has had deliveries in flight without a break
}

func newHostGate(max int, now func() time.Time) *hostGate {
	return &hostGate{max: max, now: now, hosts: map[string]*hostLoad{}}
}

// take claims a slot of host. When there is none, it reports for how long the host has been
// busy: the postponement grows with it, so that a dead host's backlog is looked at less often
// than a busy but quick one's.
func (g *hostGate) take(host string) (ok bool, busy time.Duration) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.hosts[host]
	if l == nil {
		l = &hostLoad{since: now}
		g.hosts[host] = l
	}
	if l.n >= g.max {
		return false, now.Sub(l.since)
	}
	l.n++
	return true, 0
}

// done gives back a slot take claimed.
func (g *hostGate) done(host string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if l := g.hosts[host]; l != nil {
		if l.n--; l.n <= 0 {
			delete(g.hosts, host)
		}
	}
}

// postponement is how long a delivery to a host busy for busy waits before it is looked at
// again: a tenth of a second for a host that is merely busy, up to timeout for one whose
// requests hang.
func postponement(busy, timeout time.Duration) time.Duration {
	return min(max(busy, 100*time.Millisecond), timeout)
}
