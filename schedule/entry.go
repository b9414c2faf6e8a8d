package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// HistorySize is how many runs a job remembers.
const HistorySize = 20

// Run is one finished run of a job.
type Run struct {
	Trigger string    `json:"trigger"` // schedule or manual
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Status  string    `json:"status"` // ok or failed
	Count   int       `json:"count"`
	Error   string    `json:"error,omitempty"`
}

// Status is a snapshot of a job for operators.
type Status struct {
	Name         string     `json:"name"`
	Spec         string     `json:"schedule"`
	Timezone     string     `json:"timezone"`
	Paused       bool       `json:"paused"`
	Running      bool       `json:"running"`
	Next         time.Time  `json:"next_run"`
	Previous     *time.Time `json:"previous_run,omitempty"`
	LastStatus   string     `json:"last_status,omitempty"`
	LastDuration float64    `json:"last_duration_seconds,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	Runs         int64      `json:"runs"`
	Failures     int64      `json:"failures"`
	Skips        int64      `json:"skips"`
	Panics       int64      `json:"panics"`
	Elsewhere    int64      `json:"elsewhere"` // ticks left to another replica
	History      []Run      `json:"history"`   // newest first
}

type entry struct {
	s    *Scheduler
	job  Job
	id   cron.EntryID // guarded by s.mu
	spec Spec         // guarded by s.mu

	mu        sync.Mutex
	paused    bool
	running   bool
	history   []Run // newest last
	runs      int64
	failures  int64
	skips     int64
	panics    int64
	elsewhere int64 // ticks another replica ran (or that could not be coordinated)
}

// Run implements cron.Job: one scheduled tick.
func (e *entry) Run() {
	e.mu.Lock()
	paused := e.paused
	e.mu.Unlock()
	if paused {
		return
	}
	// cron sets the entry's Prev to the tick it is starting before it answers the snapshot
	// request, so every replica names the tick the same way whatever its timer jitter.
	e.s.mu.Lock()
	id := e.id
	e.s.mu.Unlock()
	e.run(e.s.base, "schedule", e.s.cron.Entry(id).Prev)
}

// run executes the job unless a run is in progress here (then it counts a skip and returns
// false) or, with a coordinator, on another replica (then it returns false quietly).
func (e *entry) run(parent context.Context, trigger string, tick time.Time) (r Run, ran bool) {
	e.mu.Lock()
	if e.running {
		e.skips++
		e.mu.Unlock()
		if e.s.Skipped != nil {
			e.s.Skipped(e.job.Name)
		}
		e.s.log.Warn("job still running, tick skipped", slog.String("job", e.job.Name), slog.String("trigger", trigger))
		return Run{}, false
	}
	e.running = true
	e.mu.Unlock()
	// Register with Stop's wait group under the scheduler lock, so no run starts once Stop waits.
	e.s.mu.Lock()
	if e.s.stopped {
		e.s.mu.Unlock()
		e.mu.Lock()
		e.running = false
		e.mu.Unlock()
		return Run{}, false
	}
	e.s.wg.Add(1)
	e.s.mu.Unlock()
	defer e.s.wg.Done()
	if c := e.s.Coordinator; c != nil {
		leased, release, ok, err := c.Acquire(parent, e.job.Name, tick)
		if err != nil || !ok {
			if err != nil {
				e.s.log.Error("job not run: cannot coordinate with other replicas", slog.String("job", e.job.Name), slog.Any("error", err))
			}
			e.mu.Lock()
			e.running = false
			e.elsewhere++
			e.mu.Unlock()
			return Run{}, false
		}
		defer release()
		parent = leased
	}

	r = Run{Trigger: trigger, Start: e.s.Now()}
	if e.s.Started != nil {
		e.s.Started(e.job.Name, r.Start)
	}
	ctx, cancel := context.WithTimeout(parent, e.job.Timeout)
	count, err, panicked := e.call(ctx)
	cancel()
	r.End, r.Count = e.s.Now(), count
	r.Status = "ok"
	if err != nil {
		r.Status, r.Error = "failed", err.Error()
		e.s.log.Error("job failed", slog.String("job", e.job.Name), slog.Any("error", err))
	} else {
		e.s.log.Debug("job ran", slog.String("job", e.job.Name), slog.Int("count", count), slog.Duration("took", r.End.Sub(r.Start)))
	}

	if e.s.Finished != nil {
		e.s.Finished(e.job.Name, r, panicked)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running = false
	e.runs++
	if err != nil {
		e.failures++
	}
	if panicked {
		e.panics++
	}
	e.history = append(e.history, r)
	if len(e.history) > HistorySize {
		e.history = e.history[len(e.history)-HistorySize:]
	}
	return r, true
}

func (e *entry) call(ctx context.Context) (count int, err error, panicked bool) {
	// A run that outlives its deadline failed, whatever it returned.
	defer func() {
		if ctx.Err() != nil {
			err = fmt.Errorf("deadline: %w", context.Cause(ctx))
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			panicked = true
			e.s.log.Error("job panicked", slog.String("job", e.job.Name), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	count, err = e.job.Run(ctx)
	return count, err, false
}

func (e *entry) status(spec Spec, next time.Time) Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Status{
		Name: e.job.Name, Spec: spec.Raw, Timezone: spec.Location.String(), Paused: e.paused, Running: e.running,
		Next: next, Runs: e.runs, Failures: e.failures, Skips: e.skips, Panics: e.panics, Elsewhere: e.elsewhere,
		History: make([]Run, 0, len(e.history)),
	}
	for i := len(e.history) - 1; i >= 0; i-- {
		st.History = append(st.History, e.history[i])
	}
	if len(st.History) > 0 {
		last := st.History[0]
		st.Previous = &last.Start
		st.LastStatus, st.LastError = last.Status, last.Error
		st.LastDuration = last.End.Sub(last.Start).Seconds()
	}
	return st
}
