package app

import (
	"context"
	"log/slog"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/store"
)

// Replicas share the store, which coordinates their job runs (see package cluster): a NATS outage
// stops no build. They keep each other's caches current with control messages (cluster.Control).

// coordinate makes each job tick run on one replica when the store is shared (PostgreSQL). A
// SQLite store is one process's: the scheduler's no-overlap rule is all it needs.
func (a *App) coordinate() {
	if l, ok := a.Store.(store.Leaser); ok {
		a.Scheduler.Coordinator = cluster.New(l, cluster.Options{Replica: a.Replica}, a.Log.With(slog.String("component", "cluster")))
	}
}

// joinCluster subscribes to the other replicas' control messages on an external NATS cluster,
// and rereads the store after every reconnect for the messages it missed meanwhile.
func (a *App) joinCluster() error {
	a.control = cluster.NewControl(a.NATS.NATS(), a.Config.NATS.SubjectPrefix, a.Replica, a.Log.With(slog.String("component", "cluster")))
	return a.control.Join(map[string]func(string){
		cluster.KindDocuments: a.reloadDocuments,
		cluster.KindJobs:      func(string) { a.reloadJobStates() },
	}, a.reloadAll)
}

// announce tells the other replicas about a change, when there are any (external NATS).
func (a *App) announce(kind, what string) {
	if a.control != nil {
		a.control.Announce(kind, what)
	}
}

// reloadAll rereads every document and job state, after control messages may have been missed.
func (a *App) reloadAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := a.Web.LoadDocuments(ctx); err != nil {
		a.Log.Error("reload documents after reconnecting", slog.Any("error", err))
	}
	a.reloadJobStates()
}

// reloadDocuments serves a channel's documents as another replica's build saved them.
func (a *App) reloadDocuments(slug string) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	for _, f := range syndicate.Formats {
		doc, err := a.Store.Document(ctx, slug, f)
		if err == nil {
			err = a.Web.Cache().Put(doc)
		}
		if err != nil {
			a.Log.Error("reload a document saved by another replica", slog.String("channel", slug), slog.String("format", f), slog.Any("error", err))
		}
	}
}

// reloadJobStates applies schedules and pauses another replica saved.
func (a *App) reloadJobStates() {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	if err := a.applySavedJobStates(ctx); err != nil {
		a.Log.Error("reload job states", slog.Any("error", err))
		return
	}
	a.Web.SchedulesChanged()
}
