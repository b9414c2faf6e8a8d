package app

import (
	"log/slog"

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

// joinCluster follows the other replicas' changes on an external NATS cluster (cluster.Follow).
func (a *App) joinCluster() error {
	a.control = cluster.NewControl(a.NATS.NATS(), a.Config.NATS.SubjectPrefix, a.Replica, a.Log.With(slog.String("component", "cluster")))
	return a.control.Follow(cluster.Reloads{Store: a.Store, Cache: a.Web.Cache(), AllDocuments: a.Web.LoadDocuments, Jobs: a.Jobs.Reload})
}

// announce tells the other replicas about a change, when there are any (external NATS).
func (a *App) announce(kind, what string) {
	if a.control != nil {
		a.control.Announce(kind, what)
	}
}
