package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// QueueOpener returns a new, empty queue; the suite closes nothing (the opener's cleanup does).
type QueueOpener func(t *testing.T) store.Queue

// RunQueue runs the conformance tests of store.Queue against queues made by open.
func RunQueue(t *testing.T, open QueueOpener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Queue)
	}{
		{"CoalescesByTargetAndTopic", testQueueCoalesce},
		{"ClaimsAreLeases", testQueueLease},
		{"RetryBacksOff", testQueueRetry},
		{"ChangeInFlightRequeues", testQueueChangeInFlight},
		{"ForgetTargets", testQueueForget},
		{"PostponeKeepsAttempts", testQueuePostpone},
		{"HasDueMatchesClaimDue", testQueueHasDue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

const (
	hubA = "https://hub-a.example/"
	hubB = "https://hub-b.example/"
	kind = "websub.publish"
)

var qnow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func enqueue(t *testing.T, q store.Queue, at time.Time, items ...store.QueueItem) {
	t.Helper()
	if err := q.Enqueue(context.Background(), kind, items, at); err != nil {
		t.Fatal(err)
	}
}

func claim(t *testing.T, q store.Queue, target string, now time.Time, limit int) []store.Delivery {
	t.Helper()
	ds, err := q.ClaimDue(context.Background(), kind, target, now, limit, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func topics(ds []store.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Topic)
	}
	slices.Sort(out)
	return out
}

func depth(t *testing.T, q store.Queue) int64 {
	t.Helper()
	n, _, err := q.QueueStats(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testQueueCoalesce(t *testing.T, q store.Queue) {
	for i := range 5 {
		enqueue(t, q, qnow.Add(time.Duration(i)*time.Second), store.QueueItem{Target: hubA, Topic: "t1"}, store.QueueItem{Target: hubB, Topic: "t1"})
	}
	enqueue(t, q, qnow, store.QueueItem{Target: hubA, Topic: "t2"}, store.QueueItem{Target: hubA, Topic: "t2"})
	if err := q.Enqueue(context.Background(), "other.kind", []store.QueueItem{{Target: hubA, Topic: "t1", Payload: []byte("x")}}, qnow); err != nil {
		t.Fatal(err)
	}
	n, oldest, err := q.QueueStats(context.Background(), kind)
	if err != nil || n != 3 || !oldest.Equal(qnow) {
		t.Fatalf("stats: %d rows, oldest %v, %v; want 3 rows, oldest %v", n, oldest, err, qnow)
	}
	if got := topics(claim(t, q, hubA, qnow.Add(time.Hour), 10)); !slices.Equal(got, []string{"t1", "t2"}) {
		t.Errorf("hub A claimed %v, want [t1 t2]", got)
	}
	if got := claim(t, q, hubB, qnow.Add(time.Hour), 10); len(got) != 1 || got[0].Topic != "t1" || got[0].Payload != nil || got[0].Kind != kind {
		t.Errorf("hub B claimed %+v, want t1 alone, without payload", got)
	}
	ds, err := q.ClaimDue(context.Background(), "other.kind", hubA, qnow, 10, time.Minute)
	if err != nil || len(ds) != 1 || string(ds[0].Payload) != "x" {
		t.Errorf("other kind claimed %+v, %v", ds, err)
	}
}

func testQueueLease(t *testing.T, q store.Queue) {
	ctx := context.Background()
	enqueue(t, q, qnow, store.QueueItem{Target: hubA, Topic: "t1"}, store.QueueItem{Target: hubA, Topic: "t2"}, store.QueueItem{Target: hubA, Topic: "t3"})
	if got := claim(t, q, hubA, qnow.Add(-time.Second), 10); len(got) != 0 {
		t.Errorf("claimed %v before they were due", topics(got))
	}
	first := claim(t, q, hubA, qnow, 2)
	if len(first) != 2 {
		t.Fatalf("claimed %d rows with limit 2", len(first))
	}
	rest := claim(t, q, hubA, qnow, 10)
	if len(rest) != 1 {
		t.Fatalf("second claim got %v, want the one unclaimed row", topics(rest))
	}
	if got := claim(t, q, hubA, qnow.Add(59*time.Second), 10); len(got) != 0 {
		t.Errorf("claimed %v under a live lease", topics(got))
	}
	// The lease of the first claim runs out: another worker takes its rows, and the first
	// worker's Finish no longer touches them.
	taken := claim(t, q, hubA, qnow.Add(61*time.Second), 10)
	if len(taken) != 3 {
		t.Fatalf("after the leases expired claimed %v, want all three", topics(taken))
	}
	for _, d := range first {
		if requeued, err := q.Finish(ctx, d, qnow.Add(62*time.Second)); err != nil || requeued {
			t.Fatalf("finish with a lost claim: requeued %v, %v", requeued, err)
		}
	}
	if n := depth(t, q); n != 3 {
		t.Errorf("a lost claim's Finish deleted rows: %d left, want 3", n)
	}
	for _, d := range taken {
		if requeued, err := q.Finish(ctx, d, qnow.Add(62*time.Second)); err != nil || requeued {
			t.Fatalf("finish: requeued %v, %v", requeued, err)
		}
	}
	if n := depth(t, q); n != 0 {
		t.Errorf("%d rows left after Finish, want 0", n)
	}
}

func testQueueRetry(t *testing.T, q store.Queue) {
	ctx := context.Background()
	enqueue(t, q, qnow, store.QueueItem{Target: hubA, Topic: "t1"})
	d := claim(t, q, hubA, qnow, 1)[0]
	if err := q.Retry(ctx, d, qnow.Add(10*time.Second), "hub answered 500"); err != nil {
		t.Fatal(err)
	}
	// A change while the hub fails keeps the back-off: the hub is no readier for it.
	enqueue(t, q, qnow.Add(time.Second), store.QueueItem{Target: hubA, Topic: "t1"})
	if got := claim(t, q, hubA, qnow.Add(9*time.Second), 1); len(got) != 0 {
		t.Fatalf("claimed %v during its back-off", topics(got))
	}
	ds := claim(t, q, hubA, qnow.Add(10*time.Second), 1)
	if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastError != "hub answered 500" || !ds[0].CreatedAt.Equal(qnow) {
		t.Fatalf("after a retry claimed %+v, want attempts 1, its error, created %v", ds, qnow)
	}
	if err := q.Retry(ctx, ds[0], qnow.Add(30*time.Second), "timeout"); err != nil {
		t.Fatal(err)
	}
	ds = claim(t, q, hubA, qnow.Add(30*time.Second), 1)
	if len(ds) != 1 || ds[0].Attempts != 2 || ds[0].LastError != "timeout" {
		t.Fatalf("after two retries claimed %+v", ds)
	}
}

func testQueueChangeInFlight(t *testing.T, q store.Queue) {
	ctx := context.Background()
	enqueue(t, q, qnow, store.QueueItem{Target: hubA, Topic: "t1"})
	d := claim(t, q, hubA, qnow, 1)[0]
	if err := q.Retry(ctx, d, qnow, "first failure"); err != nil {
		t.Fatal(err)
	}
	d = claim(t, q, hubA, qnow, 1)[0]
	// The feed changes again while its ping is on the way: the hub may fetch the feed before
	// the change, so one more ping must follow, at once and with a fresh attempt count.
	enqueue(t, q, qnow.Add(time.Second), store.QueueItem{Target: hubA, Topic: "t1"})
	requeued, err := q.Finish(ctx, d, qnow.Add(2*time.Second))
	if err != nil || !requeued {
		t.Fatalf("finish after a change in flight: requeued %v, %v", requeued, err)
	}
	ds := claim(t, q, hubA, qnow.Add(2*time.Second), 1)
	if len(ds) != 1 || ds[0].Attempts != 0 || ds[0].LastError != "" || !ds[0].CreatedAt.Equal(qnow.Add(2*time.Second)) {
		t.Fatalf("requeued row claimed as %+v", ds)
	}
	if requeued, err := q.Finish(ctx, ds[0], qnow.Add(3*time.Second)); err != nil || requeued {
		t.Fatalf("finish: requeued %v, %v", requeued, err)
	}
	if n := depth(t, q); n != 0 {
		t.Errorf("%d rows left", n)
	}
}

func testQueueForget(t *testing.T, q store.Queue) {
	ctx := context.Background()
	enqueue(t, q, qnow, store.QueueItem{Target: hubA, Topic: "t1"}, store.QueueItem{Target: hubB, Topic: "t1"}, store.QueueItem{Target: hubB, Topic: "t2"})
	if err := q.Enqueue(ctx, "other.kind", []store.QueueItem{{Target: hubB, Topic: "t1"}}, qnow); err != nil {
		t.Fatal(err)
	}
	claim(t, q, hubB, qnow, 1)
	if n, err := q.ForgetTargets(ctx, kind, []string{hubA}); err != nil || n != 2 {
		t.Fatalf("forgot %d rows (%v), want hub B's 2", n, err)
	}
	if got := claim(t, q, hubA, qnow, 10); len(got) != 1 {
		t.Errorf("hub A's row: claimed %v", topics(got))
	}
	if n, _, err := q.QueueStats(ctx, "other.kind"); err != nil || n != 1 {
		t.Errorf("another kind's rows: %d (%v), want 1 kept", n, err)
	}
	if n, err := q.ForgetTargets(ctx, kind, nil); err != nil || n != 1 {
		t.Errorf("forgetting every target deleted %d (%v), want 1", n, err)
	}
}

func testQueuePostpone(t *testing.T, q store.Queue) {
	ctx := context.Background()
	enqueue(t, q, qnow, store.QueueItem{Target: hubA, Topic: "t1"})
	d := claim(t, q, hubA, qnow, 1)[0]
	if err := q.Retry(ctx, d, qnow.Add(time.Second), "hub answered 500"); err != nil {
		t.Fatal(err)
	}
	// Postponed many times: no attempt was made, so none is counted and the error stays.
	at := qnow.Add(time.Second)
	for range 20 {
		ds := claim(t, q, hubA, at, 1)
		if len(ds) != 1 {
			t.Fatalf("claim at %v got %v, want the postponed row", at, topics(ds))
		}
		if err := q.Postpone(ctx, ds[0], at.Add(5*time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, q, hubA, at.Add(4*time.Second), 1); len(got) != 0 {
			t.Fatalf("claimed %v before its postponement ran out", topics(got))
		}
		at = at.Add(5 * time.Second)
	}
	ds := claim(t, q, hubA, at, 1)
	if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastError != "hub answered 500" || !ds[0].CreatedAt.Equal(qnow) {
		t.Fatalf("after 20 postponements claimed %+v, want attempts 1, the last real error, created %v", ds, qnow)
	}
	// A postponement with a claim lost to another worker changes nothing.
	stale := ds[0]
	taken := claim(t, q, hubA, at.Add(2*time.Minute), 1)
	if len(taken) != 1 {
		t.Fatalf("after the lease ran out claimed %v", topics(taken))
	}
	if err := q.Postpone(ctx, stale, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := claim(t, q, hubA, at.Add(2*time.Minute), 1); len(got) != 0 {
		t.Errorf("a lost claim's Postpone released the row: claimed %v", topics(got))
	}
}

func testQueueHasDue(t *testing.T, q store.Queue) {
	ctx := context.Background()
	hasDue := func(target string, now time.Time) bool {
		t.Helper()
		due, err := q.HasDue(ctx, kind, target, now)
		if err != nil {
			t.Fatal(err)
		}
		return due
	}
	if hasDue(hubA, qnow) {
		t.Fatal("an empty queue has a due row")
	}
	enqueue(t, q, qnow, store.QueueItem{Target: hubA, Topic: "t1"})
	if err := q.Enqueue(ctx, "other.kind", []store.QueueItem{{Target: hubB, Topic: "t1"}}, qnow); err != nil {
		t.Fatal(err)
	}
	if hasDue(hubA, qnow.Add(-time.Second)) {
		t.Error("a row is due before its time")
	}
	if hasDue(hubB, qnow) {
		t.Error("another kind's row is due")
	}
	if !hasDue(hubA, qnow) {
		t.Fatal("a row due now is not")
	}
	d := claim(t, q, hubA, qnow, 1)[0]
	if hasDue(hubA, qnow.Add(59*time.Second)) {
		t.Error("a row under a live claim is due")
	}
	if !hasDue(hubA, qnow.Add(61*time.Second)) {
		t.Error("a row whose claim ran out is not due")
	}
	if err := q.Retry(ctx, d, qnow.Add(10*time.Second), "timeout"); err != nil {
		t.Fatal(err)
	}
	if hasDue(hubA, qnow.Add(9*time.Second)) || !hasDue(hubA, qnow.Add(10*time.Second)) {
		t.Error("a retried row is due before its back-off ran out, or not after")
	}
}
