package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/robfig/cron/v3"

	"github.com/yongzhou-news/syndicate/store"
)

// HistorySize is how many runs a job remembers in this process (Status.History); a service keeps
// its durable history elsewhere.
const HistorySize = 20

// What started a run (Run.Trigger).
const (
	triggerSchedule = "schedule" // a tick of the job's schedule
	triggerManual   = "manual"   // POST /api/jobs/{name}/run, syndicate jobs run
	triggerCatchUp  = "catch-up" // at start-up: a build that never ran, or a tick missed while down
)

// Run is one run of a job.
type Run struct {
	// ID names the run among all runs of all jobs (a UUIDv7, so ids sort by start time).
	ID      string    `json:"id"`
	Trigger string    `json:"trigger"` // schedule, manual or catch-up
	Replica string    `json:"replica,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	// Deadline is when the run's context expires; a run still marked running after it was
	// abandoned by a replica that died.
	Deadline time.Time `json:"deadline,omitzero"`
	Status   string    `json:"status"` // running, ok, failed, or abandoned (read from the store)
	Count    int       `json:"count"`
	Changes
	Error string `json:"error,omitempty"`
}

// Changes is what a run wrote, as its job reports it with Report.
type Changes struct {
	Documents int `json:"documents"` // feed documents written
	Events    int `json:"events"`    // events put in the outbox
}

// In returns the run with its times in loc, so that they read in the job's zone.
func (r Run) In(loc *time.Location) Run {
	r.Start = r.Start.In(loc)
	if !r.End.IsZero() {
		r.End = r.End.In(loc)
	}
	if !r.Deadline.IsZero() {
		r.Deadline = r.Deadline.In(loc)
	}
	return r
}

type changesKey struct{}

// Report records, for the run whose context ctx is, what the job wrote. A job calls it once,
// before it returns; outside a run it does nothing.
func Report(ctx context.Context, c Changes) {
	if p, ok := ctx.Value(changesKey{}).(*Changes); ok {
		*p = c
	}
}

// Run statuses: the store's, which keeps them.
const (
	StatusRunning = store.RunRunning
	StatusOK      = store.RunOK
	StatusFailed  = store.RunFailed
	// StatusAbandoned is a run its replica left running past its deadline (it died, or lost
	// the store before it could record the end). Only stored history has it.
	StatusAbandoned = store.RunAbandoned
)

// Status is a snapshot of a job for operators.
type Status struct {
	Name         string     `json:"name"`
	Spec         string     `json:"schedule"`
	Timezone     string     `json:"timezone"`
	Paused       bool       `json:"paused"`
	Running      bool       `json:"running"`
	Next         time.Time  `json:"next_run,omitzero"` // none while paused
	Previous     *time.Time `json:"previous_run,omitempty"`
	LastStatus   string     `json:"last_status,omitempty"`
	LastDuration float64    `json:"last_duration_seconds,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	Runs         int64      `json:"runs"`
	Failures     int64      `json:"failures"`
	Skips        int64      `json:"skips"`
	Panics       int64      `json:"panics"`
	Elsewhere    int64      `json:"elsewhere"` // ticks left to another replica
	// Current is the run in progress here, if any.
	Current *Run `json:"current_run,omitempty"`
	// History is the runs of this process, newest first; a service fills it from the store
	// with every replica's runs instead.
	History []Run `json:"history"`
	// HistoryNote says why History is not the stored one, when it is not.
	HistoryNote string `json:"history_note,omitempty"`
}

type entry struct {
	s     *Scheduler
	job   Job
	id    cron.EntryID // guarded by s.mu
	spec  Spec         // guarded by s.mu
	ticks *ticks       // the schedule cron runs it on; guarded by s.mu

	mu        sync.Mutex
	paused    bool
	running   bool
	current   *Run  // the run in progress once it started (nil while it waits for a lease)
	history   []Run // newest last
	runs      int64
	failures  int64
	skips     int64
	panics    int64
	elsewhere int64 // ticks another replica ran (or that could not be coordinated)
}

// tick runs one scheduled tick, named by its scheduled time (ticks.started), so that every
// replica names it the same way whatever its timer jitter.
func (e *entry) tick(at time.Time) {
	e.mu.Lock()
	paused := e.paused
	e.mu.Unlock()
	if paused {
		return
	}
	e.run(e.s.base, triggerSchedule, at)
}

// run executes the job unless a run is in progress here (then it counts a skip and returns
// false) or, with a coordinator, on another replica (then it returns false quietly).
func (e *entry) run(parent context.Context, trigger string, tick time.Time) (r Run, ran bool) {
	if !e.claim(trigger) {
		return Run{}, false
	}
	return e.execute(parent, trigger, tick, newRunID())
}

// claim marks the job running and registers the run with Stop's wait group; false when a run
// is in progress (a skip) or the scheduler is stopped. execute must follow a true claim.
func (e *entry) claim(trigger string) bool {
	e.mu.Lock()
	if e.running {
		if trigger != triggerSchedule {
			// The caller is told (409, or catch-up learns its tick ran it); a skip is a scheduled
			// tick lost, which this is not.
			e.mu.Unlock()
			e.s.log.Info("job still running, run refused", slog.String("job", e.job.Name), slog.String("trigger", trigger))
			return false
		}
		e.skips++
		e.mu.Unlock()
		if e.s.Skipped != nil {
			e.s.Skipped(e.job.Name)
		}
		e.s.log.Warn("job still running, tick skipped", slog.String("job", e.job.Name), slog.String("trigger", trigger))
		return false
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
		return false
	}
	e.s.wg.Add(1)
	e.s.mu.Unlock()
	return true
}

// lease is a claimed run's permission to go ahead: its context (which carries the coordinator's
// fence and ends when the lease is lost) and what gives the lease back.
type lease struct {
	ctx     context.Context
	release func()
}

// acquire takes the job's lease from the coordinator, if there is one, for a claimed run. When
// another replica holds it (ok false, err nil) or the coordinator cannot answer (err), the claim
// is given up: the run does not happen here.
func (e *entry) acquire(parent context.Context, tick time.Time) (l lease, ok bool, err error) {
	c := e.s.Coordinator
	if c == nil {
		return lease{ctx: parent, release: func() {}}, true, nil
	}
	leased, release, ok, err := c.Acquire(parent, e.job.Name, tick)
	if err != nil || !ok {
		if err != nil {
			e.s.log.Error("job not run: cannot coordinate with other replicas", slog.String("job", e.job.Name), slog.Any("error", err))
		}
		e.mu.Lock()
		e.running = false
		e.elsewhere++
		e.mu.Unlock()
		e.s.wg.Done()
		return lease{}, false, err
	}
	return lease{ctx: leased, release: release}, true, nil
}

// execute runs a claimed run with the given id and records it, once it has the job's lease.
func (e *entry) execute(parent context.Context, trigger string, tick time.Time, id string) (r Run, ran bool) {
	l, ok, _ := e.acquire(parent, tick)
	if !ok {
		return Run{}, false
	}
	return e.executeLeased(l, e.newRun(trigger, id)), true
}

// newRun returns a run starting now.
func (e *entry) newRun(trigger, id string) Run {
	r := Run{ID: id, Trigger: trigger, Start: e.s.Now(), Status: StatusRunning}
	r.Deadline = r.Start.Add(e.job.Timeout)
	return r
}

// executeLeased runs r, a claimed run that holds its lease and starts now, and records it.
func (e *entry) executeLeased(l lease, r Run) Run {
	defer e.s.wg.Done()
	defer l.release()
	parent := l.ctx
	ctx, cancel := context.WithTimeout(parent, e.job.Timeout)
	defer cancel()
	var changes Changes
	ctx = context.WithValue(ctx, changesKey{}, &changes)
	e.mu.Lock()
	cur := r
	e.current = &cur
	e.mu.Unlock()
	if e.s.Record != nil {
		e.s.Record(e.job.Name, r)
	}
	count, err, panicked := e.call(ctx)
	r.End, r.Count, r.Changes = e.s.Now(), count, changes
	r.Status = StatusOK
	if err != nil {
		r.Status, r.Error = StatusFailed, err.Error()
		e.s.log.Error("job failed", slog.String("job", e.job.Name), slog.String("run", r.ID), slog.Any("error", err))
	} else {
		e.s.log.Debug("job ran", slog.String("job", e.job.Name), slog.String("run", r.ID), slog.Int("count", count), slog.Duration("took", r.End.Sub(r.Start)))
	}

	// Recorded before it stops being current, so that readers always find it in one place.
	if e.s.Record != nil {
		e.s.Record(e.job.Name, r)
	}
	if e.s.Finished != nil {
		e.s.Finished(e.job.Name, r, panicked)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.running, e.current = false, nil
	e.runs++
	if err != nil {
		e.failures++
	}
	if panicked {
		e.panics++
	}
	e.record(r)
	return r
}

// record adds a finished run to the history; e.mu must be held.
func (e *entry) record(r Run) {
	e.history = append(e.history, r)
	if len(e.history) > HistorySize {
		e.history = e.history[len(e.history)-HistorySize:]
	}
}

// newRunID returns a UUIDv7: unique across replicas, and sorted by creation time.
func newRunID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString() // v7 fails only if the random source does
	}
	return id.String()
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
	if e.paused {
		next = time.Time{} // a paused job has no next run; its schedule comes back with resume
	}
	st := Status{
		Name: e.job.Name, Spec: spec.Raw, Timezone: spec.Location.String(), Paused: e.paused, Running: e.running,
		Next: next, Runs: e.runs, Failures: e.failures, Skips: e.skips, Panics: e.panics, Elsewhere: e.elsewhere,
		History: make([]Run, 0, len(e.history)),
	}
	if !next.IsZero() {
		st.Next = next.In(spec.Location)
	}
	for i := len(e.history) - 1; i >= 0; i-- {
		st.History = append(st.History, e.history[i].In(spec.Location))
	}
	if e.current != nil {
		cur := e.current.In(spec.Location)
		st.Current = &cur
	}
	if len(st.History) > 0 {
		last := st.History[0]
		st.Previous = &last.Start
		st.LastStatus, st.LastError = last.Status, last.Error
		st.LastDuration = last.End.Sub(last.Start).Seconds()
	}
	return st
}
