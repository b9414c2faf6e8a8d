package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// States is what the scheduler needs of the store to follow operators' saved settings and to
// catch up after downtime: each job's saved schedule, pause and last start.
type States interface {
	JobStates(ctx context.Context) (map[string]store.JobState, error)
}

// statesTimeout bounds a read of the saved states.
const statesTimeout = 10 * time.Second

// ApplySaved puts operators' saved schedules and pauses over the configured ones (job name →
// configured spec). It runs at start-up and whenever another replica announces a change, so it
// also reverts a job whose saved schedule was reset. A saved schedule no longer valid is logged
// and the current one kept.
func (s *Scheduler) ApplySaved(ctx context.Context, st States, configured map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, statesTimeout)
	defer cancel()
	states, err := st.JobStates(ctx)
	if err != nil {
		return fmt.Errorf("schedule: read job states: %w", err)
	}
	for name, spec := range configured {
		saved := states[name]
		want := spec
		if saved.Schedule != "" {
			want = saved.Schedule
		}
		if cur, err := s.Spec(name); err == nil && cur.Raw != want {
			if err := s.Reschedule(name, want); err != nil {
				s.log.Error("saved schedule no longer valid; keeping the current one", slog.String("job", name), slog.Any("error", err))
			}
		}
		if err := s.SetPaused(name, saved.Paused); err != nil {
			return err
		}
	}
	return nil
}

// CatchUpJob is a job catch-up may run.
type CatchUpJob struct {
	Name     string
	Deadline time.Duration // how late a missed tick may still start; 0: no limit
	Never    bool          // run it also when it never ran
}

// CatchUpOrder is the order catch-up runs jobs in: polls first, so their items are in the first
// feeds; then builds children first (builds come parents first, in tree order), so a parent's
// first build sees their items; the site-wide build last.
func CatchUpOrder(polls, builds []CatchUpJob, site CatchUpJob) []CatchUpJob {
	out := make([]CatchUpJob, 0, len(polls)+len(builds)+1)
	out = append(out, polls...)
	for i := len(builds) - 1; i >= 0; i-- {
		out = append(out, builds[i])
	}
	return append(out, site)
}

// CatchUp runs, once each and in the order given, the jobs whose last scheduled tick passed while
// the service was down and is within their deadline, and those marked Never that never ran (so
// a fresh install serves feeds at once). robfig/cron never runs what fell due while down.
func (s *Scheduler) CatchUp(ctx context.Context, st States, jobs []CatchUpJob) {
	rctx, cancel := context.WithTimeout(ctx, statesTimeout)
	states, err := st.JobStates(rctx)
	cancel()
	if err != nil {
		s.log.Error("catch-up: read job states", slog.Any("error", err))
		return
	}
	now := time.Now()
	for _, j := range jobs {
		if ctx.Err() != nil {
			return
		}
		spec, err := s.Spec(j.Name)
		if err != nil {
			continue
		}
		last := states[j.Name].LastRun
		if last.IsZero() && !j.Never || !last.IsZero() && !Missed(spec, last, now, j.Deadline) {
			continue
		}
		if st, err := s.Status(j.Name); err == nil && st.Runs+st.Elsewhere > 0 {
			continue // a tick or a manual run since start (after the states were read) did it
		}
		if _, err := s.runNow(ctx, j.Name, triggerCatchUp); errors.Is(err, ErrStopped) {
			return
		} else if errors.Is(err, ErrBusy) {
			continue // its tick started it already
		} else if err != nil {
			s.log.Error("catch-up run", slog.String("job", j.Name), slog.Any("error", err))
		}
	}
}
