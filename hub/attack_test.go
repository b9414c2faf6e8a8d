package hub

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// The rate limit holds against a client that rotates IPv6 addresses: a host is routinely given
// a /64, 2^64 addresses, so limits are kept per /64. IPv4 addresses (mapped ones included) are
// still limited one by one.
func TestRateLimitPerIPv6Prefix(t *testing.T) {
	opt := fast(openSQLite(t), testTree(t))
	opt.Rate, opt.Burst = 0.001, 2
	h := New(opt)
	post := func(remote string) int {
		form := url.Values{"hub.mode": {"nonsense"}} // refused at once, after taking a token
		r := httptest.NewRequest("POST", "/websub", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for i, remote := range []string{"[2001:db8:1:2::1]:4000", "[2001:db8:1:2::2]:4000"} {
		if code := post(remote); code != http.StatusBadRequest {
			t.Fatalf("request %d from %s: %d, want 400 within the burst", i, remote, code)
		}
	}
	for _, remote := range []string{"[2001:db8:1:2::3]:4000", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:1", "[2001:db8:1:2::1%eth0]:4000"} {
		if code := post(remote); code != http.StatusTooManyRequests {
			t.Errorf("from %s, same /64 past its burst: %d, want 429", remote, code)
		}
	}
	if code := post("[2001:db8:1:3::1]:4000"); code != http.StatusBadRequest {
		t.Errorf("from another /64: %d, want 400", code)
	}
	for _, remote := range []string{"192.0.2.1:1", "192.0.2.1:2", "[::ffff:192.0.2.2]:1", "192.0.2.2:1"} {
		if code := post(remote); code != http.StatusBadRequest {
			t.Errorf("from %s: %d, want 400 (IPv4 addresses have a burst each)", remote, code)
		}
	}
	if code := post("[::ffff:192.0.2.1]:3"); code != http.StatusTooManyRequests {
		t.Errorf("a mapped IPv4 address past its burst: %d, want 429", code)
	}
}

// hub.lease_seconds is "a positive decimal integer" (WebSub §5.1); one too large for int64 is
// still one, and gets the longest lease like any other past LeaseMax, not a 400.
func TestHugeLeaseIsClamped(t *testing.T) {
	h := New(fast(openSQLite(t), testTree(t)))
	form := func(lease string) url.Values {
		return url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"https://r.example/cb"},
			"hub.topic": {site.FeedURL("local", "rss")}, "hub.lease_seconds": {lease}}
	}
	for _, lease := range []string{"99999999999999999999999", "9223372036854775808", "9223372036854775807"} {
		req, err := h.parse(form(lease))
		if err != nil || req.lease != h.opt.LeaseMax {
			t.Errorf("lease_seconds=%s: lease %v, %v; want %v", lease, req.lease, err, h.opt.LeaseMax)
		}
	}
	for _, lease := range []string{"-5", "0", "+5", "1e9", "abc", "-99999999999999999999999", " 5"} {
		if _, err := h.parse(form(lease)); err == nil {
			t.Errorf("lease_seconds=%q accepted", lease)
		}
	}
}

// countingStore is the real SQLite store, counting the reads of every subscription.
type countingStore struct {
	*sqlite.DB
	lists atomic.Int64
}

func (c *countingStore) ListSubscriptions(ctx context.Context, now time.Time) ([]store.Subscription, error) {
	c.lists.Add(1)
	return c.DB.ListSubscriptions(ctx, now)
}

// GET /metrics is open to anyone: a client polling it must not make every request read every
// subscription. Scrapes within subscriptionGaugeTTL share one read, and a later one sees changes.
func TestSubscriptionGaugeReadsTheStoreOncePerTTL(t *testing.T) {
	st := &countingStore{DB: openSQLite(t)}
	clk := &clock{t: time.Now()}
	opt := fast(st, testTree(t))
	opt.Now = clk.Now
	h := New(opt)
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.Collectors()...)
	save := func(cb string) {
		now := clk.Now()
		_, err := st.SaveSubscription(context.Background(), store.Subscription{Callback: cb, Topic: site.FeedURL("local", "rss"),
			Host: "r.example", LeaseSeconds: 3600, ExpiresAt: now.Add(time.Hour), RenewedAt: now})
		if err != nil {
			t.Fatal(err)
		}
	}
	gauge := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "syndicate_websub_hub_subscriptions" && len(mf.GetMetric()) == 1 {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return 0
	}
	save("https://r.example/1")
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); reg.Gather() }()
	}
	wg.Wait()
	if n := gauge(); n != 1 {
		t.Errorf("gauge %v, want 1", n)
	}
	if n := st.lists.Load(); n != 1 {
		t.Errorf("51 scrapes read every subscription %d times, want 1", n)
	}
	save("https://r.example/2")
	clk.Add(subscriptionGaugeTTL)
	if n := gauge(); n != 2 {
		t.Errorf("after the TTL: gauge %v, want 2", n)
	}
	if n := st.lists.Load(); n != 2 {
		t.Errorf("after the TTL: %d reads, want 2", n)
	}
}

// The hub keeps the callback's query string as the subscriber wrote it and appends its own
// parameters (WebSub §5.3: "Hubs MUST preserve the query string during subscription
// verification by appending new parameters to the end of the list"). Re-encoding it sorted the
// keys, turned "flag" into "flag=" and changed escapes, which breaks callbacks that carry a
// signed or opaque query.
func TestVerificationKeepsTheCallbackQuery(t *testing.T) {
	var mu sync.Mutex
	var raws []string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		raws = append(raws, r.URL.RawQuery)
		mu.Unlock()
		io.WriteString(w, r.URL.Query().Get("hub.challenge"))
	}))
	t.Cleanup(cb.Close)
	_, srv := startHub(t, fast(openSQLite(t), testTree(t)))
	const query = "z=1&a=%2f&flag&sig=x%3By"
	subscribe(t, srv.URL, cb.URL+"/cb?"+query, site.FeedURL("local", "rss"))
	subscribe(t, srv.URL, cb.URL+"/cb?"+query, "https://elsewhere.example/feed") // denied
	testwait.For(t, "the verification and the denial", func() bool { mu.Lock(); defer mu.Unlock(); return len(raws) == 2 })
	mu.Lock()
	defer mu.Unlock()
	for _, raw := range raws {
		if !strings.HasPrefix(raw, query+"&hub.") {
			t.Errorf("callback query %q does not start with the subscriber's %q", raw, query)
		}
	}
}
