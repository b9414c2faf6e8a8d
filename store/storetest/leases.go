package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// Leases checks a store.Leaser: one claim per tick, one live lease per job with tokens that
// only grow, expiry by the database's clock, and fenced commits that fail once the lease is gone.
func Leases(t *testing.T, s interface {
	store.Store
	store.Leaser
}) {
	ctx := context.Background()
	tick := time.Date(2026, 11, 29, 3, 10, 0, 0, time.UTC)
	const job, ttl = "build:lingling", time.Minute

	tokA, ok, err := s.AcquireLease(ctx, job, "a", tick, ttl)
	if err != nil || !ok {
		t.Fatalf("a: ok=%v err=%v", ok, err)
	}
	if _, ok, err := s.AcquireLease(ctx, job, "b", tick, ttl); err != nil || ok {
		t.Fatalf("b got a's tick: ok=%v err=%v", ok, err)
	}
	if _, ok, err := s.AcquireLease(ctx, job, "b", tick.Add(time.Minute), ttl); err != nil || ok {
		t.Fatalf("b got the next tick while a holds the lease: ok=%v err=%v", ok, err)
	}
	if _, ok, err := s.AcquireLease(ctx, job, "b", time.Time{}, ttl); err != nil || ok {
		t.Fatalf("b ran by hand while a holds the lease: ok=%v err=%v", ok, err)
	}
	_, ok, err = s.AcquireLease(ctx, "build:qiyang", "b", tick, ttl)
	if err != nil || !ok {
		t.Fatalf("another job is independent: ok=%v err=%v", ok, err)
	}
	if err := s.RenewLease(ctx, job, tokA, ttl); err != nil {
		t.Fatalf("renew: %v", err)
	}
	if err := s.ReleaseLease(ctx, job, tokA); err != nil {
		t.Fatal(err)
	}
	if err := s.RenewLease(ctx, job, tokA, ttl); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renewing a released lease: %v, want ErrLeaseLost", err)
	}
	// a's tick stays claimed after its run released the lease.
	if _, ok, _ := s.AcquireLease(ctx, job, "b", tick, ttl); ok {
		t.Fatal("a tick ran twice")
	}
	tokB, ok, err := s.AcquireLease(ctx, job, "b", tick.Add(time.Minute), 300*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("b after a released: ok=%v err=%v", ok, err)
	}
	if tokB <= tokA {
		t.Fatalf("token %d after %d: tokens must grow", tokB, tokA)
	}

	// A commit under a's old token is refused; under b's live one it goes through.
	build := func(ctx context.Context, id string) error {
		return s.CommitBuild(ctx, store.Build{Channel: "lingling", Events: []syndicate.OutboxRow{{
			EventID: id, Subject: "syndicate.items.lingling", Channel: "lingling", Payload: []byte(`{}`), CreatedAt: time.Now(),
		}}})
	}
	if err := build(store.WithFence(ctx, job, tokA), "stale"); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("commit under a released lease: %v, want ErrLeaseLost", err)
	}
	if err := build(store.WithFence(ctx, job, tokB), "live"); err != nil {
		t.Fatalf("commit under a live lease: %v", err)
	}
	// b stops renewing: its lease expires by the database's clock and c takes over.
	deadline := time.Now().Add(10 * time.Second)
	var tokC int64
	for {
		if tokC, ok, err = s.AcquireLease(ctx, job, "c", tick.Add(2*time.Minute), ttl); err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b's lease never expired")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if tokC <= tokB {
		t.Fatalf("token %d after %d", tokC, tokB)
	}
	if err := build(store.WithFence(ctx, job, tokB), "expired"); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("commit under an expired lease: %v, want ErrLeaseLost", err)
	}
	if err := s.RenewLease(ctx, job, tokB, ttl); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("renewing an expired lease: %v", err)
	}
	rows, err := s.PendingEvents(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].EventID != "live" {
		t.Fatalf("outbox %v, want only the live commit's row", rows)
	}
}
