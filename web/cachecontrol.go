package web

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// CachePolicy bounds the max-age feeds are served with.
type CachePolicy struct {
	// NextBuild returns when a channel's feed is next rebuilt (zero if unknown).
	NextBuild func(slug string) time.Time
	Min, Max  time.Duration
}

// cacheControl computes each channel's Cache-Control value: readers may keep the feed until the
// channel's next build, clamped to [Min, Max]. The value is recomputed at most once a second per
// channel, so a feed request formats no string.
type cacheControl struct {
	policy CachePolicy
	vals   sync.Map // slug → *atomic.Pointer[ccValue]
}

type ccValue struct {
	header []string
	second int64 // the Unix second it was computed in
}

// header returns slug's value at now, the time the request came in.
func (c *cacheControl) header(slug string, now time.Time) []string {
	p, ok := c.vals.Load(slug)
	if !ok {
		p, _ = c.vals.LoadOrStore(slug, new(atomic.Pointer[ccValue]))
	}
	ptr := p.(*atomic.Pointer[ccValue])
	if v := ptr.Load(); v != nil && v.second == now.Unix() {
		return v.header
	}
	v := &ccValue{header: []string{"public, max-age=" + strconv.Itoa(int(c.maxAge(slug, now).Seconds()))}, second: now.Unix()}
	ptr.Store(v)
	return v.header
}

// reset forgets computed values, after a schedule change.
func (c *cacheControl) reset() { c.vals.Clear() }

func (c *cacheControl) maxAge(slug string, now time.Time) time.Duration {
	age := c.policy.Max
	if c.policy.NextBuild != nil {
		if next := c.policy.NextBuild(slug); !next.IsZero() {
			age = next.Sub(now)
		}
	}
	return min(max(age, c.policy.Min), c.policy.Max)
}
