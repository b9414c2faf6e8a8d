package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/schedule"
	"github.com/yongzhou-news/syndicate/store"
)

// jobs is the web API's view of the scheduler: every change is saved in the store first, so it
// survives restarts and wins over the configuration. Run history is read from the store, so every
// replica shows every replica's runs; counters are this process's.
type jobs struct{ a *App }

// listHistory is how many runs of each job GET /api/jobs shows; GET /api/jobs/{name} shows every
// run kept (jobs.history.keep).
const listHistory = 20

func (j jobs) List(ctx context.Context) ([]schedule.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, historyReadTimeout)
	defer cancel()
	recent, err := j.a.Store.RecentRuns(ctx, listHistory)
	if err != nil {
		j.a.Log.Warn("job history unavailable: answering with this replica's runs", slog.Any("error", err))
	}
	out := []schedule.Status{}
	for _, name := range j.a.Scheduler.Names() {
		st, serr := j.a.Scheduler.Status(name)
		if serr != nil {
			return nil, serr
		}
		out = append(out, j.a.runs.WithHistory(st, recent[name], j.a.jobLocation(name), listHistory, err))
	}
	return out, nil
}

func (j jobs) Status(ctx context.Context, name string) (schedule.Status, error) {
	st, err := j.a.Scheduler.Status(name)
	if err != nil {
		return st, err
	}
	ctx, cancel := context.WithTimeout(ctx, historyReadTimeout)
	defer cancel()
	keep := j.a.Config.Jobs.History.Keep
	runs, err := j.a.Store.JobRuns(ctx, name, keep)
	if err != nil {
		j.a.Log.Warn("job history unavailable: answering with this replica's runs", slog.String("job", name), slog.Any("error", err))
	}
	return j.a.runs.WithHistory(st, runs, j.a.jobLocation(name), keep, err), nil
}

// historyReadTimeout bounds the history read of a jobs API request: past it, the answer is this
// replica's own runs, with a note, rather than no answer while the store does not answer.
const historyReadTimeout = 3 * time.Second

// jobLocation is the zone of the job's schedule, in which the API gives its times.
func (a *App) jobLocation(name string) *time.Location {
	spec, err := a.Scheduler.Spec(name)
	if err != nil || spec.Location == nil {
		return time.UTC
	}
	return spec.Location
}

func (j jobs) Reschedule(r *http.Request, name, spec string) error {
	st, err := j.a.Scheduler.Status(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), writeTimeout)
	defer cancel()
	if err := j.a.Store.SaveJobSettings(ctx, name, spec, st.Paused, time.Now()); err != nil {
		return err
	}
	if err := j.a.Scheduler.Reschedule(name, spec); err != nil {
		return err
	}
	j.a.Web.SchedulesChanged()
	j.a.announce(cluster.KindJobs, name)
	return nil
}

func (j jobs) SetPaused(r *http.Request, name string, paused bool) error {
	st, err := j.a.Scheduler.Status(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), writeTimeout)
	defer cancel()
	if err := j.a.Store.SaveJobSettings(ctx, name, j.savedSpec(ctx, name, st.Spec), paused, time.Now()); err != nil {
		return err
	}
	if err := j.a.Scheduler.SetPaused(name, paused); err != nil {
		return err
	}
	j.a.Web.SchedulesChanged()
	j.a.announce(cluster.KindJobs, name)
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
	run, done, err := j.a.Scheduler.Launch(context.WithoutCancel(r.Context()), name)
	if err != nil {
		return run, done, err
	}
	loc := j.a.jobLocation(name)
	out := make(chan schedule.Run, 1)
	go func() {
		r := <-done
		r.Replica = j.a.Replica
		out <- r.In(loc)
	}()
	run.Replica = j.a.Replica
	return run.In(loc), out, nil
}

// Run finds a run by id: in progress here, written by this replica but not yet stored, or in the
// store (any replica's).
func (j jobs) Run(ctx context.Context, name, id string) (schedule.Run, error) {
	st, err := j.a.Scheduler.Status(name)
	if err != nil {
		return schedule.Run{}, err
	}
	if st.Current != nil && st.Current.ID == id {
		cur := *st.Current
		cur.Replica = j.a.Replica
		return cur, nil
	}
	loc := j.a.jobLocation(name)
	if r, ok := j.a.runs.Pending(name)[id]; ok {
		return schedule.FromStored(r, loc, time.Now()), nil
	}
	ctx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	r, err := j.a.Store.JobRun(ctx, name, id)
	if syndicate.ErrorCode(err) == syndicate.ENOTFOUND {
		return schedule.Run{}, fmt.Errorf("app: job %q run %q: %w", name, id, schedule.ErrUnknownRun)
	} else if err != nil {
		return schedule.Run{}, fmt.Errorf("app: job %q run %q: %w", name, id, err)
	}
	return schedule.FromStored(r, loc, time.Now()), nil
}

// writeTimeout bounds an operator's settings change: the store may be the thing that hangs.
const writeTimeout = 5 * time.Second

// readTimeout bounds the store reads done in the background.
const readTimeout = 10 * time.Second

// applySavedJobStates puts operators' saved schedules and pauses over the configured ones.
func (a *App) applySavedJobStates(ctx context.Context) error {
	return a.Scheduler.ApplySaved(ctx, a.Store, a.configuredSpecs)
}

// historyRetention is how much run history the store keeps per job.
func (a *App) historyRetention() store.Retention {
	return store.Retention{Keep: a.Config.Jobs.History.Keep, MaxAge: a.Config.Jobs.History.MaxAge.D()}
}

// catchUp runs the jobs that missed a tick while the service was down, and the builds that never
// ran, in schedule.CatchUpOrder.
func (a *App) catchUp(ctx context.Context) {
	var polls, builds []schedule.CatchUpJob
	for _, s := range a.Config.Sources {
		if s.StartingDeadline > 0 {
			polls = append(polls, schedule.CatchUpJob{Name: IngestJobName(s.Name), Deadline: s.StartingDeadline.D()})
		}
	}
	for _, slug := range a.Tree.Slugs() {
		builds = append(builds, schedule.CatchUpJob{Name: BuildJobName(slug), Deadline: a.startingDeadlines[slug], Never: true})
	}
	site := schedule.CatchUpJob{Name: BuildJobName(syndicate.SiteFeed), Never: true}
	a.Scheduler.CatchUp(ctx, a.Store, schedule.CatchUpOrder(polls, builds, site))
}
