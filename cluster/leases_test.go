package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
)

// cuttable is a real store whose lease renewals can be cut, as by a partition between one
// replica and the database.
type cuttable struct {
	*postgres.DB
	cut atomic.Bool
}

func (c *cuttable) RenewLease(ctx context.Context, job string, token int64, ttl time.Duration) error {
	if c.cut.Load() {
		return errors.New("connection refused (renewal cut by the test)")
	}
	return c.DB.RenewLease(ctx, job, token, ttl)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// commitBuild saves one build of lingling with one outbox row, as a build job would.
func commitBuild(ctx context.Context, s store.Store, id string) error {
	return s.CommitBuild(ctx, store.Build{Channel: "lingling", Events: []syndicate.OutboxRow{{
		EventID: id, Subject: "syndicate.items.lingling", Channel: "lingling", Payload: []byte(`{}`), CreatedAt: time.Now(),
	}}})
}

// A replica that loses its lease mid-run has its run cancelled before the lease expires, a
// successor takes the job, and the stale run can never commit: one commit per tick.
func TestLostLeaseCancelsRunAndFencesItsCommit(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	open := func() *cuttable {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return &cuttable{DB: db}
	}
	sa, sb := open(), open()
	opts := func(r string) cluster.Options {
		return cluster.Options{Replica: r, LeaseTTL: 1500 * time.Millisecond, Renew: 300 * time.Millisecond}
	}
	a, b := cluster.New(sa, opts("a"), quiet()), cluster.New(sb, opts("b"), quiet())
	tick := time.Date(2026, 11, 29, 3, 10, 0, 0, time.UTC)
	const job = "build:lingling"

	runA, releaseA, ok, err := a.Acquire(ctx, job, tick)
	if err != nil || !ok {
		t.Fatalf("a: ok=%v err=%v", ok, err)
	}
	defer releaseA()
	// Renewals keep the lease well past its TTL while the run lasts.
	time.Sleep(2 * opts("a").LeaseTTL) // the thing under test is the passing of time itself
	if runA.Err() != nil {
		t.Fatalf("a's run ended while renewing: %v", context.Cause(runA))
	}
	if _, _, ok, _ := b.Acquire(ctx, job, tick.Add(time.Minute)); ok {
		t.Fatal("b took a renewed lease")
	}

	sa.cut.Store(true)
	var runB context.Context
	var releaseB func()
	for runB == nil {
		if ctx.Err() != nil {
			t.Fatal("b never took the job over")
		}
		r, rel, ok, err := b.Acquire(ctx, job, tick.Add(2*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			runB, releaseB = r, rel
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer releaseB()
	select {
	case <-runA.Done():
	default:
		t.Fatal("b took over while a's run still went on")
	}
	if !errors.Is(context.Cause(runA), store.ErrLeaseLost) {
		t.Fatalf("a's run ended with %v, want ErrLeaseLost", context.Cause(runA))
	}

	// a's build ignored its context and tries to commit: the fence in its transaction refuses.
	if err := commitBuild(context.WithoutCancel(runA), sa, "a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("stale commit: %v, want ErrLeaseLost", err)
	}
	if err := commitBuild(runB, sb, "b"); err != nil {
		t.Fatalf("successor's commit: %v", err)
	}
	rows, err := sb.PendingEvents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].EventID != "b" {
		t.Fatalf("outbox holds %v, want the successor's row only", rows)
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
