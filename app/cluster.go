package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"

	"github.com/nats-io/nats.go"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/cluster"
)

// Replicas that share a store and a NATS cluster keep each other current with two core-NATS
// subjects (not captured by the items stream), while the store stays the source of truth:
//
//	PREFIX.control.documents  payload: a channel slug whose documents a build just saved
//	PREFIX.control.jobs       payload: a job name whose schedule or pause state changed
//
// A replica that misses a message (disconnected) still serves correct documents after the
// channel's next change, and rereads every job state when it reconnects.

const replicaHeader = "Syndicate-Replica"

func (a *App) controlSubject(kind string) string {
	return a.Config.NATS.SubjectPrefix + ".control." + kind
}

func newReplicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// joinCluster coordinates this replica with the others on an external NATS cluster: job ticks
// through JetStream KV leases, documents and schedules through control messages.
func (a *App) joinCluster(ctx context.Context) error {
	leases, err := cluster.New(ctx, a.NATS.JetStream(), cluster.Options{
		Prefix: a.Config.NATS.Stream, Replica: a.Replica, Replicas: a.Config.NATS.Replicas,
	}, a.Log.With(slog.String("component", "cluster")))
	if err != nil {
		return err
	}
	a.Scheduler.Coordinator = leases
	nc := a.NATS.NATS()
	subs := []struct {
		kind string
		fn   func(string)
	}{
		{"documents", a.reloadDocuments},
		{"jobs", func(string) { a.reloadJobStates() }},
	}
	for _, s := range subs {
		if _, err := nc.Subscribe(a.controlSubject(s.kind), func(m *nats.Msg) {
			if m.Header.Get(replicaHeader) != a.Replica {
				s.fn(string(m.Data))
			}
		}); err != nil {
			return fmt.Errorf("app: subscribe %s: %w", a.controlSubject(s.kind), err)
		}
	}
	return nil
}

// announce tells the other replicas about a change; best effort, the store is the truth.
func (a *App) announce(kind, what string) {
	if a.Scheduler.Coordinator == nil {
		return
	}
	msg := &nats.Msg{Subject: a.controlSubject(kind), Data: []byte(what), Header: nats.Header{replicaHeader: {a.Replica}}}
	if err := a.NATS.NATS().PublishMsg(msg); err != nil {
		a.Log.Warn("announce change to other replicas", slog.String("kind", kind), slog.Any("error", err))
	}
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
