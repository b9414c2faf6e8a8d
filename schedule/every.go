package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
)

// everyGrid ticks "@every d" on a grid of multiples of d counted from a fixed origin, instead of
// robfig's "d after the previous run", which counts from whenever each process started its
// scheduler or applied the spec. Every replica, restarted or not, computes the same instants, so
// their tick claims name the same ticks and each tick runs once cluster-wide.
type everyGrid struct {
	every  time.Duration
	loc    *time.Location
	origin time.Time
}

func newEveryGrid(s cron.ConstantDelaySchedule, loc *time.Location) everyGrid {
	// The origin is the Unix epoch at the zone's offset on 2000-01-01, a fixed instant, so that
	// DST changes do not move the grid: "@every 24h" in Asia/Shanghai ticks at local midnight,
	// "@every 1h" on the hour, but in Europe/Berlin "@every 24h" ticks at 01:00 in summer.
	_, offset := time.Unix(946684800, 0).In(loc).Zone() // 2000-01-01T00:00:00Z
	return everyGrid{every: s.Delay, loc: loc, origin: time.Unix(int64(-offset), 0)}
}

// Next implements cron.Schedule: the first grid instant after t, in the job's zone.
func (g everyGrid) Next(t time.Time) time.Time {
	since := t.Sub(g.origin)
	n := since / g.every
	if since < 0 && since%g.every != 0 {
		n-- // floor, not Go's truncation towards zero
	}
	return g.origin.Add((n + 1) * g.every).In(g.loc)
}
