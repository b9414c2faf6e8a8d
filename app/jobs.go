package app

import (
	"context"
	"log/slog"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/schedule"
	"github.com/yongzhou-news/syndicate/store"
)

// newJobs wires the scheduler's operator view: saved settings, history and runs through the
// store, changes told to the HTTP cache rules and to the other replicas.
func (a *App) newJobs() *schedule.Service {
	h := a.Config.Jobs.History
	runs := schedule.NewRunLog(a.Store, a.Replica, store.Retention{Keep: h.Keep, MaxAge: h.MaxAge.D()},
		a.Log.With(slog.String("component", "history")))
	a.Scheduler.Record = runs.Record
	return &schedule.Service{
		Scheduler: a.Scheduler, Runs: runs, Store: a.Store, Replica: a.Replica, Keep: h.Keep,
		Configured: map[string]string{}, Log: a.Log.With(slog.String("component", "jobs")),
		Changed:  func() { a.Web.SchedulesChanged() },
		Announce: func(job string) { a.announce(cluster.KindJobs, job) },
	}
}

// catchUp hands the scheduler the jobs start-up may run: polls with a starting deadline, every
// channel's build, and the site-wide build.
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
	a.Jobs.CatchUp(ctx, polls, builds, schedule.CatchUpJob{Name: BuildJobName(syndicate.SiteFeed), Never: true})
}
