package hub

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

func queueDepth(t *testing.T, st Store) int64 {
	t.Helper()
	d, _, err := st.QueueStats(context.Background(), KindDistribute)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// How a delivery ends besides success: given up after its attempts (counted), not sent once
// the subscription is gone, and ending the subscription on 410 Gone (§7).
func TestDeliveryOutcomes(t *testing.T) {
	topic := site.FeedURL("local", "rss")
	t.Run("given up", func(t *testing.T) {
		st := openSQLite(t)
		opt := fast(st, testTree(t))
		opt.Delivery.MaxAttempts = 3
		h, srv := startHub(t, opt)
		sub := newSubscriber(t)
		sub.status = func(int) int { return http.StatusServiceUnavailable }
		subscribe(t, srv.URL, sub.URL, topic)
		testwait.For(t, "verified", func() bool { return count(h, "subscribe", "verified") == 1 })
		h.Publish(commitDoc(t, st, "local", "rss", "<rss/>"))
		testwait.For(t, "dropped", func() bool { return sub.postsCount.Load() == 3 && queueDepth(t, st) == 0 })
		if got := delivered(t, h); got != 0 {
			t.Errorf("%v delivered", got)
		}
		if n := dropped(t, h); n != 1 {
			t.Errorf("dropped %v, want 1", n)
		}
	})
	t.Run("unsubscribed while queued", func(t *testing.T) {
		st := openSQLite(t)
		opt := fast(st, testTree(t))
		opt.Delivery.BackoffBase, opt.Delivery.BackoffMax = 2*time.Second, 2*time.Second // time to unsubscribe first
		h, srv := startHub(t, opt)
		sub := newSubscriber(t)
		sub.status = func(int) int { return http.StatusInternalServerError }
		subscribe(t, srv.URL, sub.URL, topic)
		testwait.For(t, "verified", func() bool { return count(h, "subscribe", "verified") == 1 })
		h.Publish(commitDoc(t, st, "local", "rss", "<rss/>"))
		testwait.For(t, "first attempt", func() bool { return sub.postsCount.Load() == 1 })
		postForm(t, srv.URL, url.Values{"hub.mode": {"unsubscribe"}, "hub.callback": {sub.URL}, "hub.topic": {topic}})
		testwait.For(t, "unsubscribed", func() bool { return count(h, "unsubscribe", "verified") == 1 })
		testwait.For(t, "queue drained", func() bool { return queueDepth(t, st) == 0 })
		if n := sub.postsCount.Load(); n != 1 {
			t.Errorf("%d deliveries, want only the one before unsubscribing", n)
		}
	})
	t.Run("410 Gone", func(t *testing.T) {
		st := openSQLite(t)
		h, srv := startHub(t, fast(st, testTree(t)))
		sub := newSubscriber(t)
		sub.status = func(int) int { return http.StatusGone }
		subscribe(t, srv.URL, sub.URL, topic)
		testwait.For(t, "verified", func() bool { return count(h, "subscribe", "verified") == 1 })
		h.Publish(commitDoc(t, st, "local", "rss", "<rss/>"))
		testwait.For(t, "queue drained", func() bool { return sub.postsCount.Load() == 1 && queueDepth(t, st) == 0 })
		if subs := subscribers(t, st, topic, time.Now()); len(subs) != 0 {
			t.Errorf("still subscribed after 410: %+v", subs)
		}
	})
}

// dropped sums the hub's given-up deliveries as /metrics shows them.
func dropped(t *testing.T, h *Hub) float64 {
	return sumCounter(t, h, "syndicate_websub_hub_notifications_total", "outcome", "dropped")
}
