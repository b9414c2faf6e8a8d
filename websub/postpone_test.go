package websub_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/websub"
)

// A delivery postponed many times (its target was busy) is given up after MaxAttempts real
// failures all the same: a postponement is no attempt, and neither counts nor times as one.
func TestPostponedIsNoAttempt(t *testing.T) {
	forEngines(t, func(t *testing.T, open func() store.Queue) {
		const postponements = 12
		var mu sync.Mutex
		calls := 0
		send := func(context.Context, store.Delivery) error {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls <= postponements {
				return &websub.Postponed{After: time.Millisecond, Reason: "busy"}
			}
			return errors.New("subscriber answered 500")
		}
		o := options()
		o.Hubs = []string{"https://callback.example/lane-0"}
		o.MaxAttempts = 3
		n := websub.NewDeliverer(open(), "test.kind", "test", send, o)
		n.Start()
		t.Cleanup(func() { n.Close(context.Background()) })
		if err := n.Enqueue(context.Background(), []store.QueueItem{{Target: o.Hubs[0], Topic: "t1", Payload: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the delivery was dropped", func() bool {
			return metric(t, n, "test_dropped_total", map[string]string{"reason": "attempts"}) == 1
		})
		mu.Lock()
		got := calls
		mu.Unlock()
		if got != postponements+3 {
			t.Errorf("send was called %d times, want %d postponements and then 3 real attempts", got, postponements)
		}
		if got := metric(t, n, "test_notifications_total", map[string]string{"outcome": "postponed"}); got != postponements {
			t.Errorf("postponed outcomes %v, want %d", got, postponements)
		}
		if got := metric(t, n, "test_notifications_total", map[string]string{"outcome": "retried"}); got != 2 {
			t.Errorf("retried outcomes %v, want 2", got)
		}
		if got := metric(t, n, "test_attempt_duration_seconds", nil); got != 3 {
			t.Errorf("attempt duration histogram holds %v samples, want the 3 real attempts", got)
		}
	})
}

// A postponed delivery is sent when it comes due, not when the worker next polls: the hub puts a
// delivery to a busy callback host off for a tenth of a second, and a second's Poll would make
// that a second.
func TestPostponedIsSentWhenDue(t *testing.T) {
	forEngines(t, func(t *testing.T, open func() store.Queue) {
		var calls atomic.Int64
		sent := make(chan struct{})
		send := func(context.Context, store.Delivery) error {
			if calls.Add(1) == 1 {
				return &websub.Postponed{After: 20 * time.Millisecond, Reason: "busy"}
			}
			close(sent)
			return nil
		}
		o := options()
		o.Hubs = []string{"https://callback.example/lane-0"}
		o.Poll = time.Hour // only a wake makes the worker look again
		n := websub.NewDeliverer(open(), "test.kind", "test", send, o)
		n.Start()
		t.Cleanup(func() { n.Close(context.Background()) })
		if err := n.Enqueue(context.Background(), []store.QueueItem{{Target: o.Hubs[0], Topic: "t1", Payload: []byte("x")}}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-sent:
		case <-time.After(testwait.Timeout):
			t.Fatalf("a delivery postponed for 20 ms was not sent within %v (%d sends)", testwait.Timeout, calls.Load())
		}
	})
}

// countingQueue counts the claims and the looks for due rows made on the queue it wraps.
type countingQueue struct {
	store.Queue
	claims, looks atomic.Int64
}

func (q *countingQueue) ClaimDue(ctx context.Context, kind, target string, now time.Time, limit int, ttl time.Duration) ([]store.Delivery, error) {
	q.claims.Add(1)
	return q.Queue.ClaimDue(ctx, kind, target, now, limit, ttl)
}

func (q *countingQueue) HasDue(ctx context.Context, kind, target string, now time.Time) (bool, error) {
	q.looks.Add(1)
	return q.Queue.HasDue(ctx, kind, target, now)
}

// An idle notifier polls with reads only: a claim is a write transaction (on SQLite the
// process's write lock, which builds wait for), taken only when a row is due.
func TestIdleWorkersDoNotClaim(t *testing.T) {
	forEngines(t, func(t *testing.T, open func() store.Queue) {
		a, b := newHub(t, "ok"), newHub(t, "ok")
		q := &countingQueue{Queue: open()}
		n := start(t, q, options(a, b)) // Poll 5ms
		testwait.For(t, "the workers polled ten times", func() bool { return q.looks.Load()+q.claims.Load() >= 10 })
		if got := q.claims.Load(); got != 0 {
			t.Errorf("idle workers claimed %d times over %d polls, want 0", got, q.looks.Load())
		}
		topics := topicURLs(3)
		n.Publish(topics...)
		idle(t, n)
		wantOnce(t, a, topics)
		wantOnce(t, b, topics)
		if q.claims.Load() == 0 {
			t.Error("rows were delivered without a claim")
		}
	})
}
