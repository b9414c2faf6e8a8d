package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/nats-io/nats.go"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/publisher"
	"github.com/yongzhou-news/syndicate/store"
)

// Replicas share the store, which coordinates their job runs (see package cluster): a NATS outage
// stops no build. They keep each other's caches current with two core-NATS subjects (not captured
// by the items stream), best effort, while the store stays the source of truth:
//
//	PREFIX.control.documents  payload: a channel slug whose documents a build just saved
//	PREFIX.control.jobs       payload: a job name whose schedule or pause state changed
//
// A replica that misses messages (disconnected) rereads every document and job state from the
// store when it reconnects.

const replicaHeader = "Syndicate-Replica"

// startupDeadline bounds how long start-up retries reaching NATS and creating the stream: replicas
// started together on a clustered stream (nats.replicas > 1) time out on each other's creation
// requests until one wins.
const startupDeadline = 60 * time.Second

func (a *App) controlSubject(kind string) string {
	return a.Config.NATS.SubjectPrefix + ".control." + kind
}

func newReplicaID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// startNATS starts the publisher connection. With external servers it retries with jittered
// exponential back-off for up to startupDeadline; the embedded server either starts or not.
func startNATS(ctx context.Context, opts publisher.Options, log *slog.Logger) (*publisher.Conn, error) {
	if opts.URLs == "" {
		return publisher.Start(ctx, opts, log)
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = 200*time.Millisecond, 5*time.Second
	return backoff.Retry(ctx, func() (*publisher.Conn, error) {
		return publisher.Start(ctx, opts, log)
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(startupDeadline), backoff.WithNotify(func(err error, wait time.Duration) {
		log.Warn("nats not ready at start-up, retrying", slog.Duration("in", wait), slog.Any("error", err))
	}))
}

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
	status := nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	go func() {
		for st := range status {
			if st == nats.CLOSED {
				return
			}
			a.reloadAll()
		}
	}()
	return nil
}

// announce tells the other replicas about a change; best effort, the store is the truth.
func (a *App) announce(kind, what string) {
	if a.Config.NATS.URL == "" {
		return
	}
	msg := &nats.Msg{Subject: a.controlSubject(kind), Data: []byte(what), Header: nats.Header{replicaHeader: {a.Replica}}}
	if err := a.NATS.NATS().PublishMsg(msg); err != nil {
		a.Log.Warn("announce change to other replicas", slog.String("kind", kind), slog.Any("error", err))
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
