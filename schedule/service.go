package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// ServiceStore is what Service needs of the store: operators' saved settings, and the run history
// every replica writes.
type ServiceStore interface {
	States
	SaveJobSettings(ctx context.Context, name, spec string, paused bool, at time.Time) error
	RecentRuns(ctx context.Context, perJob int) (map[string][]store.JobRun, error)
	JobRuns(ctx context.Context, job string, limit int) ([]store.JobRun, error)
	JobRun(ctx context.Context, job, id string) (store.JobRun, error)
}

// Service is the operators' view of the scheduler (the web API's jobs). Every change is saved in
// the store first, so it survives restarts and wins over the configuration; then the scheduler
// follows and the other replicas are told. Run history is read from the store, so every replica
// shows every replica's runs; counters are this process's.
type Service struct {
	Scheduler *Scheduler
	Runs      *RunLog // this replica's runs on their way to the store
	Store     ServiceStore
	Replica   string
	// Keep is how many runs Status shows: the history kept per job.
	Keep int
	// Configured maps each job to its configured spec, which operators' saved settings override.
	Configured map[string]string
	// Changed, when set, runs after a job's schedule or pause changed, here or by Reload.
	Changed func()
	// Announce, when set, tells the other replicas that an operator changed the job here.
	Announce func(job string)
	Log      *slog.Logger
}

// Bounds of the store calls an API request makes: the store may be the thing that hangs.
const (
	// listHistory is how many runs of each job List shows; Status shows Keep.
	listHistory = 20
	// historyReadTimeout: past it, the answer is this replica's own runs, with a note, rather than
	// no answer while the store does not answer.
	historyReadTimeout = 3 * time.Second
	settingsTimeout    = 5 * time.Second
	runReadTimeout     = 10 * time.Second
)

// List returns every job, sorted by name, each with its newest runs.
func (s *Service) List(ctx context.Context) ([]Status, error) {
	ctx, cancel := context.WithTimeout(ctx, historyReadTimeout)
	defer cancel()
	recent, err := s.Store.RecentRuns(ctx, listHistory)
	if err != nil {
		s.Log.Warn("job history unavailable: answering with this replica's runs", slog.Any("error", err))
	}
	out := []Status{}
	for _, name := range s.Scheduler.Names() {
		st, serr := s.Scheduler.Status(name)
		if serr != nil {
			return nil, serr
		}
		out = append(out, s.Runs.WithHistory(st, recent[name], s.location(name), listHistory, err))
	}
	return out, nil
}

// Status returns one job with every run kept.
func (s *Service) Status(ctx context.Context, name string) (Status, error) {
	st, err := s.Scheduler.Status(name)
	if err != nil {
		return st, err
	}
	ctx, cancel := context.WithTimeout(ctx, historyReadTimeout)
	defer cancel()
	runs, err := s.Store.JobRuns(ctx, name, s.Keep)
	if err != nil {
		s.Log.Warn("job history unavailable: answering with this replica's runs", slog.String("job", name), slog.Any("error", err))
	}
	return s.Runs.WithHistory(st, runs, s.location(name), s.Keep, err), nil
}

// location is the zone of the job's schedule, in which the API gives its times.
func (s *Service) location(name string) *time.Location {
	spec, err := s.Scheduler.Spec(name)
	if err != nil || spec.Location == nil {
		return time.UTC
	}
	return spec.Location
}

// Reschedule saves the job's new spec, then runs it on it. An invalid spec is refused before
// anything is saved.
func (s *Service) Reschedule(r *http.Request, name, spec string) error {
	st, err := s.Scheduler.Status(name)
	if err != nil {
		return err
	}
	if _, err := ParseSpec(spec, s.Scheduler.tz); err != nil {
		return fmt.Errorf("schedule: job %q: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(r.Context(), settingsTimeout)
	defer cancel()
	if err := s.Store.SaveJobSettings(ctx, name, spec, st.Paused, time.Now()); err != nil {
		return err
	}
	if err := s.Scheduler.Reschedule(name, spec); err != nil {
		return err
	}
	s.changed(name)
	return nil
}

// SetPaused saves the job's pause, then pauses or resumes its ticks.
func (s *Service) SetPaused(r *http.Request, name string, paused bool) error {
	st, err := s.Scheduler.Status(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), settingsTimeout)
	defer cancel()
	if err := s.Store.SaveJobSettings(ctx, name, s.savedSpec(ctx, name, st.Spec), paused, time.Now()); err != nil {
		return err
	}
	if err := s.Scheduler.SetPaused(name, paused); err != nil {
		return err
	}
	s.changed(name)
	return nil
}

// savedSpec keeps "" (the configured schedule) when the operator never changed the spec.
func (s *Service) savedSpec(ctx context.Context, name, current string) string {
	states, err := s.Store.JobStates(ctx)
	if err != nil || states[name].Schedule == "" {
		return ""
	}
	return current
}

// changed tells this process's and the other replicas' listeners about an operator's change.
func (s *Service) changed(name string) {
	if s.Changed != nil {
		s.Changed()
	}
	if s.Announce != nil {
		s.Announce(name)
	}
}

// StartRun starts a run that goes on to the end even if the client hangs up.
func (s *Service) StartRun(r *http.Request, name string) (Run, <-chan Run, error) {
	run, done, err := s.Scheduler.Launch(context.WithoutCancel(r.Context()), name)
	if err != nil {
		return run, done, err
	}
	loc := s.location(name)
	out := make(chan Run, 1)
	go func() {
		r := <-done
		r.Replica = s.Replica
		out <- r.In(loc)
	}()
	run.Replica = s.Replica
	return run.In(loc), out, nil
}

// Run finds a run by id: in progress here, written by this replica but not yet stored, or in the
// store (any replica's).
func (s *Service) Run(ctx context.Context, name, id string) (Run, error) {
	st, err := s.Scheduler.Status(name)
	if err != nil {
		return Run{}, err
	}
	if st.Current != nil && st.Current.ID == id {
		cur := *st.Current
		cur.Replica = s.Replica
		return cur, nil
	}
	loc := s.location(name)
	if r, ok := s.Runs.Pending(name)[id]; ok {
		return FromStored(r, loc, time.Now()), nil
	}
	ctx, cancel := context.WithTimeout(ctx, runReadTimeout)
	defer cancel()
	r, err := s.Store.JobRun(ctx, name, id)
	if syndicate.ErrorCode(err) == syndicate.ENOTFOUND {
		return Run{}, fmt.Errorf("schedule: job %q run %q: %w", name, id, ErrUnknownRun)
	} else if err != nil {
		return Run{}, fmt.Errorf("schedule: job %q run %q: %w", name, id, err)
	}
	return FromStored(r, loc, time.Now()), nil
}

// ApplySaved puts operators' saved schedules and pauses over the configured ones (see
// Scheduler.ApplySaved).
func (s *Service) ApplySaved(ctx context.Context) error {
	return s.Scheduler.ApplySaved(ctx, s.Store, s.Configured)
}

// Reload applies the settings another replica saved, and tells Changed; a failure is logged, the
// current settings stay.
func (s *Service) Reload(ctx context.Context) {
	if err := s.ApplySaved(ctx); err != nil {
		s.Log.Error("reload job states", slog.Any("error", err))
		return
	}
	if s.Changed != nil {
		s.Changed()
	}
}

// CatchUp runs the jobs that missed a tick while the service was down, and those marked Never
// that never ran, in CatchUpOrder (see Scheduler.CatchUp).
func (s *Service) CatchUp(ctx context.Context, polls, builds []CatchUpJob, site CatchUpJob) {
	s.Scheduler.CatchUp(ctx, s.Store, CatchUpOrder(polls, builds, site))
}
