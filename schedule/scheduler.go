// Package schedule runs Syndicate's named jobs (channel builds, upstream polls) on cron specs with
// robfig/cron/v3, adding what a service needs around it: no overlapping runs, panic recovery, a
// deadline per run, pause/resume, run-now, live rescheduling, and a history operators can read.
// What outlives the process goes through the store, behind the small interfaces declared here:
// operators' saved settings and catch-up after downtime (States, saved.go), and the run history
// (RunStore, runlog.go).
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Func is the work of a job; count is what it built or fetched.
type Func func(ctx context.Context) (count int, err error)

// Job describes a named job.
type Job struct {
	Name    string
	Spec    string        // cron spec; the scheduler's time zone applies without a CRON_TZ= prefix
	Timeout time.Duration // per-run deadline; 0 means DefaultTimeout
	Run     Func
}

// DefaultTimeout bounds a run whose job sets none.
const DefaultTimeout = 5 * time.Minute

// ErrBusy is returned by RunNow when the job is already running.
var ErrBusy = errors.New("job is already running")

// ErrStopped is returned by RunNow after Stop.
var ErrStopped = errors.New("scheduler is stopped")

// ErrUnknownJob is returned for a name no job has.
var ErrUnknownJob = errors.New("no such job")

// ErrUnknownRun is returned for a run id a job does not remember.
var ErrUnknownRun = errors.New("no such run")

// Coordinator decides which of several replicas runs a job. Acquire claims the tick (zero for a
// manual run) and a lease held until release is called; ok is false when another replica has it.
// The run's work uses the returned context: it ends when the lease is lost, and it carries the
// lease to the store, which refuses a commit under a lease that is no longer held.
type Coordinator interface {
	Acquire(ctx context.Context, job string, tick time.Time) (run context.Context, release func(), ok bool, err error)
}

// Scheduler runs jobs on their specs. Its methods are safe for concurrent use.
type Scheduler struct {
	tz   string
	log  *slog.Logger
	cron *cron.Cron
	// base is the parent of every run's context. It is not cancelled by Stop, so a running build
	// finishes and commits; Kill cancels it.
	base context.Context
	kill context.CancelFunc
	wg   sync.WaitGroup

	mu      sync.Mutex
	jobs    map[string]*entry
	stopped bool // no run starts after Stop
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Hooks, set before Start: Record as each run starts (status running) and again when it
	// ends, Finished after it ends, Skipped when a tick found the previous run still going.
	// They run on the scheduler's path and must not block: Record runs before the job does,
	// and a hook that waits on a hung store would hang every later tick.
	Record   func(name string, r Run)
	Finished func(name string, r Run, panicked bool)
	Skipped  func(name string)
	// Coordinator, when set before Start, makes each tick run on one replica only.
	Coordinator Coordinator
}

// New returns a scheduler whose specs default to the time zone tz.
func New(tz string, log *slog.Logger) *Scheduler {
	base, kill := context.WithCancel(context.Background())
	return &Scheduler{
		tz: tz, log: log, base: base, kill: kill,
		cron: cron.New(cron.WithParser(parser)),
		jobs: map[string]*entry{}, Now: time.Now,
	}
}

// Add registers a job; it starts ticking once Start is called (at once if already started).
func (s *Scheduler) Add(j Job) error {
	spec, err := ParseSpec(j.Spec, s.tz)
	if err != nil {
		return fmt.Errorf("schedule: job %q: %w", j.Name, err)
	}
	if j.Timeout <= 0 {
		j.Timeout = DefaultTimeout
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.jobs[j.Name]; dup {
		return fmt.Errorf("schedule: job %q added twice", j.Name)
	}
	e := &entry{job: j, s: s}
	s.schedule(e, spec)
	s.jobs[j.Name] = e
	return nil
}

// Start starts the cron loop.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops new ticks and waits for running jobs to finish, or for ctx to end.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	<-s.cron.Stop().Done()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("schedule: jobs still running at shutdown: %w", ctx.Err())
	}
}

// Kill cancels the context of every running job.
func (s *Scheduler) Kill() { s.kill() }

func (s *Scheduler) get(name string) (*entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.jobs[name]
	if !ok {
		return nil, fmt.Errorf("schedule: %q: %w", name, ErrUnknownJob)
	}
	return e, nil
}

// RunNow runs the job once, now, and waits for it. It does not overlap a running run: then it
// returns ErrBusy.
func (s *Scheduler) RunNow(ctx context.Context, name string) (Run, error) {
	return s.runNow(ctx, name, triggerManual)
}

// runNow is RunNow with the trigger the run records (manual, or catch-up at start-up).
func (s *Scheduler) runNow(ctx context.Context, name, trigger string) (Run, error) {
	e, err := s.get(name)
	if err != nil {
		return Run{}, err
	}
	r, ran := e.run(ctx, trigger, time.Time{})
	if !ran {
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			return Run{}, fmt.Errorf("schedule: %q: %w", name, ErrStopped)
		}
		return Run{}, fmt.Errorf("schedule: %q: %w", name, ErrBusy)
	}
	return r, nil
}

// Launch starts a manual run of the job and returns at once with the run (status running) and
// a channel that receives the finished run. It does not overlap a running run: then it returns
// ErrBusy, as it does while another replica holds the job's lease.
// ctx is the run's parent: cancelling it cancels the run.
func (s *Scheduler) Launch(ctx context.Context, name string) (Run, <-chan Run, error) {
	e, err := s.get(name)
	if err != nil {
		return Run{}, nil, err
	}
	if !e.claim(triggerManual) {
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			return Run{}, nil, fmt.Errorf("schedule: %q: %w", name, ErrStopped)
		}
		return Run{}, nil, fmt.Errorf("schedule: %q: %w", name, ErrBusy)
	}
	// The lease is taken before answering, so that a caller learns at once that another
	// replica is running the job (ErrBusy, 409 in the API) rather than from a failed run later.
	l, ok, err := e.acquire(ctx, time.Time{})
	if err != nil {
		return Run{}, nil, fmt.Errorf("schedule: %q: cannot coordinate with other replicas: %w", name, err)
	}
	if !ok {
		return Run{}, nil, fmt.Errorf("schedule: %q: another replica is running it: %w", name, ErrBusy)
	}
	// The run answered is the run recorded: one start, one deadline.
	r := e.newRun(triggerManual, newRunID())
	e.mu.Lock()
	cur := r // current from now on
	e.current = &cur
	e.mu.Unlock()
	done := make(chan Run, 1)
	go func() { done <- e.executeLeased(l, r) }()
	return r, done, nil
}

// Reschedule replaces a job's spec. An invalid spec is an error and the old one keeps running.
func (s *Scheduler) Reschedule(name, spec string) error {
	parsed, err := ParseSpec(spec, s.tz)
	if err != nil {
		return err
	}
	e, err := s.get(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cron.Remove(e.id)
	s.schedule(e, parsed)
	return nil
}

// schedule registers e with cron on spec; s.mu must be held.
func (s *Scheduler) schedule(e *entry, spec Spec) {
	e.spec, e.ticks = spec, &ticks{Schedule: spec}
	e.id = s.cron.Schedule(e.ticks, tickJob{e, e.ticks})
}

// Spec returns a job's current spec.
func (s *Scheduler) Spec(name string) (Spec, error) {
	e, err := s.get(name)
	if err != nil {
		return Spec{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return e.spec, nil
}

// SetPaused pauses or resumes a job's ticks; RunNow still works on a paused job.
func (s *Scheduler) SetPaused(name string, paused bool) error {
	e, err := s.get(name)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.paused = paused
	e.mu.Unlock()
	return nil
}

// Names returns every job name, sorted.
func (s *Scheduler) Names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.jobs))
	for n := range s.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Status returns a snapshot of one job.
func (s *Scheduler) Status(name string) (Status, error) {
	e, err := s.get(name)
	if err != nil {
		return Status{}, err
	}
	s.mu.Lock()
	spec, tk := e.spec, e.ticks
	s.mu.Unlock()
	next := tk.next(time.Now())
	if next.IsZero() {
		next = spec.Next(s.Now())
	}
	return e.status(spec, next), nil
}

// NextRun is when the job next runs on its schedule; zero while it is paused, or for no such job.
func (s *Scheduler) NextRun(name string) time.Time {
	st, err := s.Status(name)
	if err != nil || st.Paused {
		return time.Time{}
	}
	return st.Next
}
