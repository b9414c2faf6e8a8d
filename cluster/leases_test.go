package cluster_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/natstest"
)

func TestLeases(t *testing.T) {
	for name, url := range natstest.Servers(t) {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			prefix := "T" + time.Now().Format("150405.000000")[7:] // unique per run on a shared server
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			open := func(replica string) (*cluster.Leases, func()) {
				nc, js := natstest.Connect(t, url)
				l, err := cluster.New(ctx, js, cluster.Options{Prefix: prefix, Replica: replica, LeaseTTL: time.Second}, log)
				if err != nil {
					t.Fatal(err)
				}
				return l, nc.Close
			}
			_, js := natstest.Connect(t, url)
			t.Cleanup(func() {
				js.DeleteKeyValue(context.Background(), prefix+"_TICKS")
				js.DeleteKeyValue(context.Background(), prefix+"_LEASES")
			})
			a, killA := open("a")
			b, _ := open("b")
			tick := time.Date(2026, 11, 29, 3, 10, 0, 0, time.UTC)

			relA, okA, err := a.Acquire(ctx, "build:lingling", tick)
			if err != nil || !okA {
				t.Fatalf("a: ok=%v err=%v", okA, err)
			}
			if _, okB, err := b.Acquire(ctx, "build:lingling", tick); err != nil || okB {
				t.Fatalf("b got the same tick: ok=%v err=%v", okB, err)
			}
			// The next tick while a still runs: the running lease keeps b out.
			if _, okB, _ := b.Acquire(ctx, "build:lingling", tick.Add(time.Minute)); okB {
				t.Fatal("b ran while a still held the running lease")
			}
			// Another job is independent.
			relOther, ok, err := b.Acquire(ctx, "build:qiyang", tick)
			if err != nil || !ok {
				t.Fatalf("other job: %v %v", ok, err)
			}
			relOther()
			// The lease outlives its TTL while renewed.
			time.Sleep(1500 * time.Millisecond)
			if h, _ := b.Holder(ctx, "build:lingling"); h != "a" {
				t.Fatalf("holder after renewals = %q, want a", h)
			}
			relA()
			if h, _ := b.Holder(ctx, "build:lingling"); h != "" {
				t.Fatalf("holder after release = %q", h)
			}
			relB, okB, err := b.Acquire(ctx, "build:lingling", tick.Add(2*time.Minute))
			if err != nil || !okB {
				t.Fatalf("b after release: %v %v", okB, err)
			}
			relB()

			// a takes a run and dies without releasing: its lease expires, then b runs.
			if _, ok, err := a.Acquire(ctx, "build:lingling", tick.Add(3*time.Minute)); err != nil || !ok {
				t.Fatalf("a: %v %v", ok, err)
			}
			killA()
			deadline := time.Now().Add(10 * time.Second)
			for {
				rel, ok, err := b.Acquire(ctx, "build:lingling", time.Time{})
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					rel()
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("a dead replica's lease never expired")
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
	}
}
