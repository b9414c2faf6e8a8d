package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
)

// wallClock evaluates a cron spec on the local wall clock and only then maps the result to a real
// instant. robfig/cron v3 searches real time, so a daily "30 2 * * *" in Europe/Berlin finds no
// 02:30 on the spring-forward day and silently skips that day. Here the wall-clock 02:30 exists
// and maps (Go normalises times in a DST gap forward) to 03:30 CEST: the job runs late, never
// not at all, as Vixie cron does. In the autumn the repeated hour runs once.
type wallClock struct {
	spec *cron.SpecSchedule // the same fields, evaluated in UTC, where no gaps exist
	loc  *time.Location
}

func newWallClock(s *cron.SpecSchedule) wallClock {
	utc := *s
	utc.Location = time.UTC
	return wallClock{spec: &utc, loc: s.Location}
}

// Next implements cron.Schedule.
func (w wallClock) Next(t time.Time) time.Time {
	lt := t.In(w.loc)
	wall := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), time.UTC)
	// A wall time can map back to an instant not after t only around a DST change; a few steps
	// always get past it.
	for range 8 {
		n := w.spec.Next(wall)
		if n.IsZero() {
			return n
		}
		real := time.Date(n.Year(), n.Month(), n.Day(), n.Hour(), n.Minute(), n.Second(), 0, w.loc)
		if real.After(t) {
			return real
		}
		wall = n
	}
	return time.Time{}
}
