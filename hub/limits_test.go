package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
)

// Subscriptions that all pass the request-time check while none is verified yet cannot take a
// callback host past MaxPerHost: the limit is checked again when each is saved.
func TestConcurrentSubscriptionsKeepLimits(t *testing.T) {
	const n, limit = 12, 3
	st := openSQLite(t)
	opt := fast(st, testTree(t))
	opt.MaxPerHost = limit
	h, srv := startHub(t, opt)
	topic := site.FeedURL("local", "atom")
	sub := newSubscriber(t)
	release := make(chan struct{})
	sub.echo = func(q url.Values) (int, string) {
		if q.Get("hub.mode") == "subscribe" {
			<-release // every request is answered 202 before any is verified
		}
		return 200, q.Get("hub.challenge")
	}
	for i := range n {
		subscribe(t, srv.URL, fmt.Sprintf("%s/%d", sub.URL, i), topic)
	}
	close(release)
	testwait.For(t, "every verification ended", func() bool {
		return count(h, "subscribe", "verified")+count(h, "subscribe", "over_limit") == n
	})
	if got := len(subscribers(t, st, topic, time.Now())); got != limit {
		t.Errorf("%d subscriptions saved for one callback host, limit %d", got, limit)
	}
	if got := count(h, "subscribe", "over_limit"); got != n-limit {
		t.Errorf("over_limit verifications %v, want %d", got, n-limit)
	}
	denied := 0
	for _, q := range sub.verifications() {
		if q.Get("hub.mode") == "denied" && strings.Contains(q.Get("hub.reason"), "too many subscriptions") {
			denied++
		}
	}
	if denied != n-limit {
		t.Errorf("%d subscribers told they were denied, want %d", denied, n-limit)
	}
}

// A delivery the address policy refuses tells operators the setting that allows it:
// websub.allow_private, not ingest's.
func TestRefusedDeliveryNamesWebSubSetting(t *testing.T) {
	st := openSQLite(t)
	opt := fast(st, testTree(t))
	opt.Policy = ingest.AddressPolicy{} // loopback callbacks refused
	h := New(opt)
	t.Cleanup(func() { h.Close(context.Background()) })
	topic := site.FeedURL("local", "atom")
	sub := newSubscriber(t)
	saved, err := st.SaveSubscription(context.Background(), store.Subscription{Callback: sub.URL, Topic: topic, Host: "127.0.0.1",
		LeaseSeconds: 3600, ExpiresAt: time.Now().Add(time.Hour), RenewedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	doc := commitDoc(t, st, "local", "atom", "<feed/>")
	p, _ := json.Marshal(payload{Topic: topic, ETag: doc.ETag})
	err = h.send(context.Background(), store.Delivery{Kind: KindDistribute,
		QueueItem: store.QueueItem{Target: h.lanes[0], Topic: strconv.FormatInt(saved.ID, 10), Payload: p}})
	if err == nil || !strings.Contains(err.Error(), "websub.allow_private") || strings.Contains(err.Error(), "ingest.") {
		t.Errorf("refused delivery: %v; want it to name websub.allow_private and not ingest's setting", err)
	}
	if n := len(sub.deliveries()); n != 0 {
		t.Errorf("the refused callback got %d deliveries", n)
	}
}
