package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/schedule"
)

// jobs is the web API's view of the scheduler: every change is saved in the store first, so it
// survives restarts and wins over the configuration.
type jobs struct{ a *App }

func (j jobs) Names() []string                             { return j.a.Scheduler.Names() }
func (j jobs) Status(name string) (schedule.Status, error) { return j.a.Scheduler.Status(name) }

func (j jobs) Reschedule(r *http.Request, name, spec string) error {
	st, err := j.a.Scheduler.Status(name)
	if err != nil {
		return err
	}
	if err := j.a.Store.SaveJobSettings(r.Context(), name, spec, st.Paused, time.Now()); err != nil {
		return err
	}
	if err := j.a.Scheduler.Reschedule(name, spec); err != nil {
		return err
	}
	j.a.Web.SchedulesChanged()
	j.a.announce("jobs", name)
	return nil
}

func (j jobs) SetPaused(r *http.Request, name string, paused bool) error {
	st, err := j.a.Scheduler.Status(name)
	if err != nil {
		return err
	}
	if err := j.a.Store.SaveJobSettings(r.Context(), name, j.savedSpec(r.Context(), name, st.Spec), paused, time.Now()); err != nil {
		return err
	}
	if err := j.a.Scheduler.SetPaused(name, paused); err != nil {
		return err
	}
	j.a.Web.SchedulesChanged()
	j.a.announce("jobs", name)
	return nil
}

// savedSpec keeps "" (the configured schedule) when the operator never changed the spec.
func (j jobs) savedSpec(ctx context.Context, name, current string) string {
	states, err := j.a.Store.JobStates(ctx)
	if err != nil || states[name].Schedule == "" {
		return ""
	}
	return current
}

// StartRun starts a run that goes on to the end even if the client hangs up.
func (j jobs) StartRun(r *http.Request, name string) (schedule.Run, <-chan schedule.Run, error) {
	return j.a.Scheduler.Launch(context.WithoutCancel(r.Context()), name)
}

func (j jobs) Run(name, id string) (schedule.Run, error) { return j.a.Scheduler.Run(name, id) }

// readTimeout bounds the store reads done in the background.
const readTimeout = 10 * time.Second

// applySavedJobStates puts operators' saved schedules and pauses over the configured ones. It
// runs at start-up and whenever another replica announces a change, so it also reverts a job
// whose saved schedule was reset.
func (a *App) applySavedJobStates(ctx context.Context) error {
	states, err := a.Store.JobStates(ctx)
	if err != nil {
		return fmt.Errorf("app: read job states: %w", err)
	}
	for name, configured := range a.configuredSpecs {
		st := states[name]
		want := configured
		if st.Schedule != "" {
			want = st.Schedule
		}
		if cur, err := a.Scheduler.Spec(name); err == nil && cur.Raw != want {
			if err := a.Scheduler.Reschedule(name, want); err != nil {
				a.Log.Error("saved schedule no longer valid; keeping the current one", slog.String("job", name), slog.Any("error", err))
			}
		}
		if err := a.Scheduler.SetPaused(name, st.Paused); err != nil {
			return err
		}
	}
	return nil
}

// recordRun persists each run's start, for catch-up after downtime.
func (a *App) recordRun(name string, at time.Time) {
	if err := a.Store.SaveJobRun(context.Background(), name, at); err != nil {
		a.Log.Warn("record job run", slog.String("job", name), slog.Any("error", err))
	}
}

// catchUp runs, once each, the jobs whose last scheduled tick passed while the service was down
// and is within their starting deadline, and every build that never ran (so a fresh install
// serves feeds at once). Builds go children first, so a parent's first build sees their items,
// and the site-wide feed last; polls come before builds, so their items are in the first feeds.
func (a *App) catchUp(ctx context.Context) {
	states, err := a.Store.JobStates(ctx)
	if err != nil {
		a.Log.Error("catch-up: read job states", slog.Any("error", err))
		return
	}
	now := time.Now()
	type job struct {
		name     string
		deadline time.Duration
		never    bool // run even if it never ran
	}
	var jobs []job
	for _, s := range a.Config.Sources {
		if s.StartingDeadline > 0 {
			jobs = append(jobs, job{IngestJobName(s.Name), s.StartingDeadline.D(), false})
		}
	}
	slugs := a.Tree.Slugs()
	for i := len(slugs) - 1; i >= 0; i-- {
		jobs = append(jobs, job{BuildJobName(slugs[i]), a.startingDeadlines[slugs[i]], true})
	}
	jobs = append(jobs, job{BuildJobName(syndicate.SiteFeed), 0, true})
	for _, j := range jobs {
		if ctx.Err() != nil {
			return
		}
		spec, err := a.Scheduler.Spec(j.name)
		if err != nil {
			continue
		}
		last := states[j.name].LastRun
		if last.IsZero() && !j.never || !last.IsZero() && !schedule.Missed(spec, last, now, j.deadline) {
			continue
		}
		if _, err := a.Scheduler.RunNow(ctx, j.name); errors.Is(err, schedule.ErrStopped) {
			return
		} else if errors.Is(err, schedule.ErrBusy) {
			continue // its tick started it already
		} else if err != nil {
			a.Log.Error("catch-up run", slog.String("job", j.name), slog.Any("error", err))
		}
	}
}
