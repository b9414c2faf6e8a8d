package schedule

import (
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// ticks is the cron.Schedule a job is registered with: its spec, remembering the last two times
// it gave robfig/cron. cron fires a job once now reaches the time Next gave it, and asks Next
// again around the same moment (before or after the job's goroutine starts), so the tick a run
// starts for is the newest of the two not after now.
//
// Asking cron itself (Entry(id).Prev) goes through its loop, which copies every entry to answer
// one request: with a thousand jobs ticking together that was a million copies per tick on one
// goroutine, and the last builds of a tick started up to a second late (BenchmarkHubEndToEnd,
// one subscriber of each of 1,000 topics).
type ticks struct {
	cron.Schedule
	mu   sync.Mutex
	last [2]time.Time // older, newer
}

// Next implements cron.Schedule.
func (t *ticks) Next(now time.Time) time.Time {
	n := t.Schedule.Next(now)
	t.mu.Lock()
	t.last = [2]time.Time{t.last[1], n}
	t.mu.Unlock()
	return n
}

// started returns the tick a run starting at now was fired for; zero if none is due yet.
func (t *ticks) started(now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, tick := range []time.Time{t.last[1], t.last[0]} {
		if !tick.IsZero() && !tick.After(now) {
			return tick
		}
	}
	return time.Time{}
}

// next returns the tick cron fires next, once it has asked; zero before.
func (t *ticks) next(now time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last[1].After(now) {
		return t.last[1]
	}
	return time.Time{}
}

// tickJob is what cron runs on a tick: the job's entry, with the schedule it was registered
// under (a rescheduled job's last tick of the old spec still names its tick by the old spec).
type tickJob struct {
	e     *entry
	ticks *ticks
}

// Run implements cron.Job.
func (j tickJob) Run() { j.e.tick(j.ticks.started(time.Now())) }
