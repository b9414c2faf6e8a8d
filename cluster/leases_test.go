package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/proxytest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// eventID names the outbox row of tick's build committed by replica, so the outbox tells which
// ticks committed and how often.
func eventID(replica string, tick time.Time) string {
	return tick.Format(time.RFC3339) + " " + replica
}

// commitBuild saves one build of lingling with one outbox row, as a build job would.
func commitBuild(ctx context.Context, s store.Store, id string) error {
	return s.CommitBuild(ctx, store.Build{Channel: "lingling", Events: []syndicate.OutboxRow{{
		EventID: id, Subject: "syndicate.items.lingling", Channel: "lingling", Payload: []byte(`{}`), CreatedAt: time.Now(),
	}}})
}

// answer is how a stale commit ended: the database's answer, and the attempts that never got one.
type answer struct {
	err      error
	failures []error
}

// commitUntilAnswered commits until the database answers (nil, or the fence's ErrLeaseLost),
// retrying what failed to reach it, or until give ends.
func commitUntilAnswered(give, ctx context.Context, s store.Store, id string) answer {
	var failures []error
	for {
		err := commitBuild(ctx, s, id)
		if err == nil || errors.Is(err, store.ErrLeaseLost) || give.Err() != nil {
			return answer{err: err, failures: failures}
		}
		failures = append(failures, err)
		select {
		case <-give.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// A replica partitioned from the database while it holds a job's lease has its run cancelled
// before the lease expires, a successor takes the job over, and the partitioned replica's build,
// which commits anyway, is refused by the fence inside its own transaction once the partition
// heals and the commit reaches the database: one commit per tick, never two. Replica a reaches
// PostgreSQL through a proxy the test cuts (the link dies: connections reset, dials refused) or
// pauses (a black hole, or a replica frozen by SIGSTOP: what a sends is held and delivered late).
func TestPartitionedHolderIsFencedOut(t *testing.T) {
	for _, tc := range []struct {
		name            string
		partition, heal func(*proxytest.Proxy)
		// held: a's commit waits in the partition and reaches the database on healing; otherwise
		// its attempts fail while the link is down and a retry reaches the database.
		held bool
	}{
		{name: "cut", partition: (*proxytest.Proxy).Cut, heal: (*proxytest.Proxy).Restore},
		{name: "pause", partition: (*proxytest.Proxy).Pause, heal: (*proxytest.Proxy).Resume, held: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := postgrestest.Schema(t, postgrestest.DSN(t))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			p, proxied := postgrestest.Proxied(t, dsn)
			open := func(dsn string) *postgres.DB {
				db, err := postgres.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			sa, sb := open(proxied), open(dsn)
			opts := func(r string) cluster.Options {
				return cluster.Options{Replica: r, LeaseTTL: 1500 * time.Millisecond, Renew: 300 * time.Millisecond}
			}
			a, b := cluster.New(sa, opts("a"), quiet()), cluster.New(sb, opts("b"), quiet())
			tickA := time.Date(2026, 11, 29, 3, 10, 0, 0, time.UTC)
			tickB := tickA.Add(time.Minute)
			const job = "build:lingling"

			runA, releaseA, ok, err := a.Acquire(ctx, job, tickA)
			if err != nil || !ok {
				t.Fatalf("a: ok=%v err=%v", ok, err)
			}
			defer releaseA()
			// Runs before releaseA: a partitioned replica's release is not left waiting on the link.
			defer p.Close()
			// Renewals through the proxy keep the lease past the expiry it was granted with, by
			// the database's own clock (the one the lease is judged by).
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			lease := func() (expires, now time.Time) {
				if err := conn.QueryRow(ctx, `SELECT expires_at, now() FROM job_leases WHERE job = $1`, job).Scan(&expires, &now); err != nil {
					t.Fatal(err)
				}
				return expires, now
			}
			granted, _ := lease()
			testwait.For(t, "the granted expiry to pass", func() bool { _, now := lease(); return now.After(granted) })
			if expires, now := lease(); !expires.After(now) {
				t.Fatalf("lease expired at %s (granted until %s) though a renewed it", expires, granted)
			}
			if runA.Err() != nil {
				t.Fatalf("a's run ended while renewing: %v", context.Cause(runA))
			}
			if _, _, ok, _ := b.Acquire(ctx, job, tickB); ok {
				t.Fatal("b took a renewed lease")
			}

			tc.partition(p)
			// a's build finishes as the partition starts and commits with its run's fence. It
			// ignores the run's cancellation, as a frozen replica could not see it, and retries
			// what fails to reach the database.
			stale := make(chan answer, 1)
			go func() { stale <- commitUntilAnswered(ctx, context.WithoutCancel(runA), sa, eventID("a", tickA)) }()

			var runB context.Context
			var releaseB func()
			testwait.For(t, "b to take the job over", func() bool {
				r, rel, ok, err := b.Acquire(ctx, job, tickB)
				if err != nil {
					t.Fatal(err)
				}
				runB, releaseB = r, rel
				return ok
			})
			defer releaseB()
			select {
			case <-runA.Done():
			default:
				t.Fatal("b took over while a's run still went on")
			}
			if !errors.Is(context.Cause(runA), store.ErrLeaseLost) {
				t.Fatalf("a's run ended with %v, want ErrLeaseLost", context.Cause(runA))
			}
			if err := commitBuild(runB, sb, eventID("b", tickB)); err != nil {
				t.Fatalf("successor's commit: %v", err)
			}
			select {
			case r := <-stale:
				t.Fatalf("a's commit got an answer across the partition: %v", r.err)
			default:
			}

			tc.heal(p)
			var r answer
			select {
			case r = <-stale:
			case <-ctx.Done():
				t.Fatal("a's commit never reached the database after the partition healed")
			}
			if !errors.Is(r.err, store.ErrLeaseLost) {
				t.Fatalf("a's stale commit: %v, want ErrLeaseLost from the fence", r.err)
			}
			if tc.held && len(r.failures) > 0 {
				t.Fatalf("a's commit failed during a pause (%v); want it held and delivered", r.failures)
			}
			if !tc.held && len(r.failures) == 0 {
				t.Fatal("a's commit never failed while the link was cut: the cut did not partition a")
			}

			// What a sent before and during the partition has now reached the database too
			// (renewals of its old token, in the pause): none of it took the lease back.
			var holder string
			if err := conn.QueryRow(ctx, `SELECT holder FROM job_leases WHERE job = $1 AND expires_at > now()`, job).Scan(&holder); err != nil || holder != "b" {
				t.Fatalf("holder of the live lease after healing: %q, %v; want b", holder, err)
			}
			rows, err := sb.PendingEvents(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			commits := map[string][]string{} // tick -> replicas that committed its build
			for _, row := range rows {
				tick, replica, _ := strings.Cut(row.EventID, " ")
				commits[tick] = append(commits[tick], replica)
			}
			want := map[string][]string{tickB.Format(time.RFC3339): {"b"}}
			if !reflect.DeepEqual(commits, want) {
				t.Fatalf("commits per tick: %v, want %v", commits, want)
			}
		})
	}
}

// Each tick runs once however many replicas ask for it, and a released lease frees the job at
// once for the next tick.
func TestTickRunsOnceAcrossReplicas(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ls []*cluster.Leases
	for i := range 3 {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		ls = append(ls, cluster.New(db, cluster.Options{Replica: fmt.Sprint("r", i)}, quiet()))
	}
	tick := time.Date(2026, 11, 29, 3, 10, 0, 0, time.UTC)
	for n := range 20 {
		at := tick.Add(time.Duration(n) * time.Second)
		results := make(chan func(), len(ls))
		for _, l := range ls {
			go func() {
				_, release, ok, err := l.Acquire(ctx, "build:lingling", at)
				if err != nil {
					t.Error(err)
				}
				if !ok {
					release = nil
				}
				results <- release
			}()
		}
		var won []func()
		for range ls {
			if r := <-results; r != nil {
				won = append(won, r)
			}
		}
		if len(won) != 1 {
			t.Fatalf("tick %d ran on %d replicas", n, len(won))
		}
		won[0]()
	}
}
