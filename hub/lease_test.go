package hub

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// Leases (§5.1 hub.lease_seconds): granted within bounds, expired subscriptions receive nothing
// and are purged, and subscribing again renews.
func TestLeases(t *testing.T) {
	st := openSQLite(t)
	clk := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	opt := fast(st, testTree(t))
	opt.Now, opt.LeaseDefault, opt.LeaseMax = clk.Now, time.Hour, 24*time.Hour
	h, srv := startHub(t, opt)
	topic := site.FeedURL("local", "json")
	sub := newSubscriber(t)

	for i, tc := range []struct {
		ask, want string
	}{
		{"", "3600"},           // LeaseDefault
		{"999999999", "86400"}, // capped at LeaseMax
		{"90", "90"},
	} {
		extra := []string{}
		if tc.ask != "" {
			extra = []string{"hub.lease_seconds", tc.ask}
		}
		subscribe(t, srv.URL, sub.URL, topic, extra...)
		testwait.For(t, "verified", func() bool { return count(h, "subscribe", "verified") == float64(i+1) })
		if got := sub.verifications()[i].Get("hub.lease_seconds"); got != tc.want {
			t.Errorf("asked %q: lease %s, want %s", tc.ask, got, tc.want)
		}
	}
	subs := subscribers(t, st, topic, clk.Now())
	if len(subs) != 1 || !subs[0].ExpiresAt.Equal(clk.Now().Add(90*time.Second)) {
		t.Fatalf("after renewals: %+v", subs)
	}

	clk.Add(91 * time.Second)
	doc := commitDoc(t, st, "local", "json", `{"version":"https://jsonfeed.org/version/1.1","title":"x","items":[]}`)
	h.Publish(doc)
	h.Flush()
	if d, _, err := st.QueueStats(context.Background(), KindDistribute); err != nil || d != 0 {
		t.Fatalf("expired subscription got %d deliveries queued (%v)", d, err)
	}
	h.purgeOnce(context.Background())
	if all, err := st.ListSubscriptions(context.Background(), time.Time{}); err != nil || len(all) != 0 {
		t.Fatalf("after purge: %v %v", all, err)
	}

	// Subscribing again after expiry subscribes anew, and deliveries resume.
	subscribe(t, srv.URL, sub.URL, topic)
	testwait.For(t, "verified again", func() bool { return count(h, "subscribe", "verified") == 4 })
	h.Publish(doc)
	testwait.For(t, "delivered", func() bool { return len(sub.deliveries()) == 1 })
}

// Unsubscribing is verified like subscribing (§5.3), and ends deliveries.
func TestUnsubscribe(t *testing.T) {
	st := openSQLite(t)
	h, srv := startHub(t, fast(st, testTree(t)))
	topic := site.FeedURL("local", "rss")
	sub := newSubscriber(t)
	subscribe(t, srv.URL, sub.URL, topic)
	testwait.For(t, "subscribed", func() bool { return count(h, "subscribe", "verified") == 1 })

	// A forged unsubscription that the subscriber does not confirm changes nothing.
	sub.echo = func(q url.Values) (int, string) {
		if q.Get("hub.mode") == "unsubscribe" {
			return http.StatusNotFound, ""
		}
		return http.StatusOK, q.Get("hub.challenge")
	}
	form := url.Values{"hub.mode": {"unsubscribe"}, "hub.callback": {sub.URL}, "hub.topic": {topic}}
	if code, body := postForm(t, srv.URL, form); code != http.StatusAccepted {
		t.Fatalf("unsubscribe: %d %s", code, body)
	}
	testwait.For(t, "unsubscription refused", func() bool { return count(h, "unsubscribe", "failed") == 1 })
	if len(subscribers(t, st, topic, time.Now())) != 1 {
		t.Fatal("an unconfirmed unsubscription removed the subscription")
	}

	sub.echo = nil
	postForm(t, srv.URL, form)
	testwait.For(t, "unsubscribed", func() bool { return count(h, "unsubscribe", "verified") == 1 })
	if q := sub.verifications()[2]; q.Get("hub.mode") != "unsubscribe" || q.Get("hub.lease_seconds") != "" {
		t.Errorf("unsubscribe verification %v", q)
	}
	if len(subscribers(t, st, topic, time.Now())) != 0 {
		t.Fatal("still subscribed")
	}
	h.Publish(commitDoc(t, st, "local", "rss", "<rss/>"))
	h.Flush()
	if d, _, _ := st.QueueStats(context.Background(), KindDistribute); d != 0 || len(sub.deliveries()) != 0 {
		t.Fatalf("unsubscribed callback: %d queued, %d delivered", d, len(sub.deliveries()))
	}
}

// A subscriber that fails gets the delivery again after a back-off, until it takes it; a
// subscriber that never answers does not hold up others.
func TestRetriesAndSlowSubscribers(t *testing.T) {
	st := openSQLite(t)
	opt := fast(st, testTree(t))
	opt.Timeout = 2 * testwait.Timeout // longer than the wait: the healthy delivery cannot be waiting for it
	h, srv := startHub(t, opt)
	topic := site.FeedURL("sports", "rss")

	flaky := newSubscriber(t)
	flaky.status = func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
	release := make(chan struct{})
	var stuck []*subscriber
	for range 12 { // more than a lane's slots
		s := newSubscriber(t)
		s.status = func(int) int { <-release; return http.StatusOK }
		stuck = append(stuck, s)
	}
	t.Cleanup(func() { close(release) })
	healthy := newSubscriber(t)

	// Another host than the stuck ones' 127.0.0.1, in another lane: a dead host holds up
	// at most its own lane.
	flakyURL := strings.Replace(flaky.URL, "127.0.0.1", "localhost", 1)
	subscribe(t, srv.URL, flakyURL, topic)
	for _, s := range stuck {
		subscribe(t, srv.URL, s.URL, topic)
	}
	healthyURL := strings.Replace(healthy.URL, "127.0.0.1", "localhost", 1)
	if h.lane("localhost") == h.lane("127.0.0.1") {
		t.Fatal("test needs localhost and 127.0.0.1 in different lanes")
	}
	subscribe(t, srv.URL, healthyURL, topic)
	testwait.For(t, "all verified", func() bool { return count(h, "subscribe", "verified") == 14 })

	h.Publish(commitDoc(t, st, "sports", "rss", "<rss><channel><title>s</title></channel></rss>"))
	testwait.For(t, "healthy subscriber served while others hang", func() bool { return len(healthy.deliveries()) == 1 })
	testwait.For(t, "flaky subscriber served on the third attempt", func() bool { return flaky.postsCount.Load() == 3 })
	got := flaky.deliveries()
	if got[0].status != 500 || got[1].status != 500 || got[2].status != 200 {
		t.Errorf("flaky statuses %d %d %d", got[0].status, got[1].status, got[2].status)
	}
	for i := range got {
		if string(got[i].body) != string(got[0].body) {
			t.Errorf("retry %d sent another body", i)
		}
	}
}

// Callbacks on internal addresses are refused when dialled, after DNS resolution, and the
// subscriber's server never hears of the hub.
func TestPrivateCallbacksRefused(t *testing.T) {
	st := openSQLite(t)
	opt := fast(st, testTree(t))
	opt.Policy = ingest.AddressPolicy{}
	h, srv := startHub(t, opt)
	topic := site.FeedURL("local", "rss")
	sub := newSubscriber(t)
	for i, cb := range []string{
		sub.URL, // 127.0.0.1
		strings.Replace(sub.URL, "127.0.0.1", "localhost", 1), // a name resolving to loopback
		"http://169.254.169.254/latest/meta-data/",            // link-local (cloud metadata)
		"http://10.1.2.3/cb",                                  // private
		"http://[::1]:1/cb",                                   // IPv6 loopback
	} {
		subscribe(t, srv.URL, cb, topic)
		testwait.For(t, "refused "+cb, func() bool { return count(h, "subscribe", "refused_address") == float64(i+1) })
	}
	if n := len(sub.verifications()); n != 0 {
		t.Fatalf("the internal callback got %d requests", n)
	}
	if all, _ := st.ListSubscriptions(context.Background(), time.Now()); len(all) != 0 {
		t.Fatalf("subscribed: %v", all)
	}
}

// Limits on subscriptions per topic and per callback host, and on requests per client.
func TestLimits(t *testing.T) {
	st := openSQLite(t)
	opt := fast(st, testTree(t))
	opt.MaxPerHost, opt.MaxPerTopic = 2, 3
	h, srv := startHub(t, opt)
	rss, atom := site.FeedURL("local", "rss"), site.FeedURL("local", "atom")
	sub := newSubscriber(t)
	subscribe(t, srv.URL, sub.URL+"/1", rss)
	subscribe(t, srv.URL, sub.URL+"/2", rss)
	testwait.For(t, "two verified", func() bool { return count(h, "subscribe", "verified") == 2 })
	form := url.Values{"hub.mode": {"subscribe"}, "hub.callback": {sub.URL + "/3"}, "hub.topic": {atom}}
	if code, _ := postForm(t, srv.URL, form); code != http.StatusForbidden {
		t.Errorf("third subscription on one host: %d, want 403", code)
	}
	subscribe(t, srv.URL, sub.URL+"/1", rss) // a renewal adds nothing
	localhost := strings.Replace(sub.URL, "127.0.0.1", "localhost", 1)
	subscribe(t, srv.URL, localhost+"/1", rss)
	testwait.For(t, "four verified", func() bool { return count(h, "subscribe", "verified") == 4 })
	form = url.Values{"hub.mode": {"subscribe"}, "hub.callback": {localhost + "/2"}, "hub.topic": {rss}}
	if code, _ := postForm(t, srv.URL, form); code != http.StatusForbidden {
		t.Errorf("fourth subscription to one topic: %d, want 403", code)
	}

	clk := &clock{t: time.Now()}
	opt = fast(openSQLite(t), testTree(t))
	opt.Rate, opt.Burst, opt.Now = 1, 2, clk.Now
	_, srv = startHub(t, opt)
	form = url.Values{"hub.mode": {"subscribe"}, "hub.callback": {sub.URL}, "hub.topic": {rss}}
	for i, want := range []int{202, 202, 429} {
		if code, _ := postForm(t, srv.URL, form); code != want {
			t.Errorf("request %d: %d, want %d", i+1, code, want)
		}
	}
	clk.Add(time.Second)
	if code, _ := postForm(t, srv.URL, form); code != 202 {
		t.Errorf("a second later: %d, want 202", code)
	}
}

var _ = syndicate.SiteFeed
