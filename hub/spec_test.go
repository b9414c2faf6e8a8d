package hub

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// Points of the WebSub Recommendation the other tests do not cover, each with its section.

// §5.1.1: the verification request keeps the callback's query string as the subscriber wrote
// it, hub parameters appended after it with "&", a parameter of the callback named like a hub
// parameter not overwritten.
func TestVerificationKeepsCallbackQuery(t *testing.T) {
	st := openSQLite(t)
	h, srv := startHub(t, fast(st, testTree(t)))
	topic := site.FeedURL("local", "rss")
	var mu sync.Mutex
	var raw string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		raw = r.URL.RawQuery
		mu.Unlock()
		// A subscriber reading the last hub.mode, as the hub appended it.
		q := r.URL.Query()
		if m := q["hub.mode"]; len(m) != 2 || m[1] != "subscribe" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(q.Get("hub.challenge")))
	}))
	t.Cleanup(cb.Close)
	const query = "z=1&a=b%2Fc&hub.mode=mine&empty="
	subscribe(t, srv.URL, cb.URL+"/cb?"+query, topic)
	testwait.For(t, "verified", func() bool { return count(h, "subscribe", "verified") == 1 })
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(raw, query+"&hub.") {
		t.Errorf("verification query %q; want the callback's %q first, untouched, then the hub's", raw, query)
	}
	if subs := subscribers(t, st, topic, time.Now()); len(subs) != 1 || subs[0].Callback != cb.URL+"/cb?"+query {
		t.Errorf("subscriptions %+v; want the callback exactly as given", subs)
	}
}

// §5.1.1: hubs "MUST always decode non-reserved characters" of hub.topic and hub.callback.
func TestPercentEncodedUnreservedCharacters(t *testing.T) {
	st := openSQLite(t)
	h, srv := startHub(t, fast(st, testTree(t)))
	topic := site.FeedURL("local", "rss")
	sub := newSubscriber(t)
	encoded := strings.Replace(topic, "/local.", "/%6C%6fcal.", 1) // l and o, upper and lower case hex
	subscribe(t, srv.URL, sub.URL+"/%7Ereader", encoded)
	testwait.For(t, "verified", func() bool { return count(h, "subscribe", "verified") == 1 })
	subs := subscribers(t, st, topic, time.Now())
	if len(subs) != 1 || subs[0].Callback != sub.URL+"/~reader" {
		t.Fatalf("subscriptions %+v; want one to %s from %s/~reader", subs, topic, sub.URL)
	}
	if v := sub.verifications(); v[0].Get("hub.topic") != topic {
		t.Errorf("verification hub.topic %q, want %q", v[0].Get("hub.topic"), topic)
	}
}

func TestDecodeUnreserved(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://n.example/feeds/local.rss", "https://n.example/feeds/local.rss"},
		{"https://n.example/%7Euser/%41%2d%2E%5f", "https://n.example/~user/A-._"},
		{"https://n.example/a%2Fb?q=%26&r=%20", "https://n.example/a%2Fb?q=%26&r=%20"}, // reserved and others kept
		{"https://n.example/%zz%4", "https://n.example/%zz%4"},                         // malformed escapes kept
		{"%e4%b8%ad", "%e4%b8%ad"}, // UTF-8 bytes are not unreserved
	} {
		if got := decodeUnreserved(tc.in); got != tc.want {
			t.Errorf("decodeUnreserved(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendQuery(t *testing.T) {
	p := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {"c"}}
	const hub = "hub.challenge=c&hub.mode=subscribe"
	for _, tc := range []struct{ in, want string }{
		{"https://r.example/cb", "https://r.example/cb?" + hub},
		{"https://r.example/cb?", "https://r.example/cb?" + hub},
		{"https://r.example/cb?x=1&", "https://r.example/cb?x=1&" + hub},
		{"https://r.example/cb?b=2&a=1&hub.mode=x", "https://r.example/cb?b=2&a=1&hub.mode=x&" + hub},
	} {
		if got := appendQuery(tc.in, p); got != tc.want {
			t.Errorf("appendQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// §5.3: hub.lease_seconds is "measured from the time the verification request was made from
// the hub to the subscriber": a subscriber that takes its time to answer gets no longer lease
// than it was told.
func TestLeaseCountsFromVerificationRequest(t *testing.T) {
	st := openSQLite(t)
	clk := &clock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	opt := fast(st, testTree(t))
	opt.Now = clk.Now
	h, srv := startHub(t, opt)
	topic := site.FeedURL("local", "rss")
	sub := newSubscriber(t)
	asked := clk.Now()
	sub.echo = func(q url.Values) (int, string) {
		clk.Add(time.Minute) // the subscriber is slow to answer
		return http.StatusOK, q.Get("hub.challenge")
	}
	subscribe(t, srv.URL, sub.URL, topic, "hub.lease_seconds", "7200")
	testwait.For(t, "verified", func() bool { return count(h, "subscribe", "verified") == 1 })
	subs := subscribers(t, st, topic, clk.Now())
	if len(subs) != 1 || !subs[0].ExpiresAt.Equal(asked.Add(2*time.Hour)) {
		t.Fatalf("subscriptions %+v; want one expiring at %v, 2 h after the verification request", subs, asked.Add(2*time.Hour))
	}
}

// §5.3.1 and §7: other answers than 2xx are failures; a 3xx is not followed, to verification
// or delivery. §7: a subscriber whose delivery was given up keeps its subscription and gets
// the next change.
func TestRedirectsAreFailures(t *testing.T) {
	topic := site.FeedURL("local", "rss")
	var followed atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		w.Write([]byte(r.URL.Query().Get("hub.challenge")))
	}))
	t.Cleanup(elsewhere.Close)
	var redirect atomic.Bool
	redirect.Store(true)
	var posts atomic.Int64
	var mu sync.Mutex
	var last string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			last = string(b)
			mu.Unlock()
		}
		if redirect.Load() {
			http.Redirect(w, r, elsewhere.URL+"?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
			return
		}
		w.Write([]byte(r.URL.Query().Get("hub.challenge")))
	}))
	t.Cleanup(cb.Close)

	st := openSQLite(t)
	opt := fast(st, testTree(t))
	opt.Delivery.MaxAttempts = 2
	h, srv := startHub(t, opt)
	subscribe(t, srv.URL, cb.URL, topic)
	testwait.For(t, "verification failed", func() bool { return count(h, "subscribe", "failed") == 1 })
	if len(subscribers(t, st, topic, time.Now())) != 0 {
		t.Fatal("subscribed by a 307")
	}

	redirect.Store(false)
	subscribe(t, srv.URL, cb.URL, topic)
	testwait.For(t, "verified", func() bool { return count(h, "subscribe", "verified") == 1 })
	redirect.Store(true)
	h.Publish(commitDoc(t, st, "local", "rss", "<rss>1</rss>"))
	testwait.For(t, "given up", func() bool { return posts.Load() == 2 && queueDepth(t, st) == 0 })
	if dropped(t, h) != 1 || delivered(t, h) != 0 {
		t.Errorf("dropped %v, delivered %v; want the 307s counted as failures", dropped(t, h), delivered(t, h))
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("a redirect was followed %d times", n)
	}

	redirect.Store(false)
	h.Publish(commitDoc(t, st, "local", "rss", "<rss>2</rss>"))
	testwait.For(t, "next change delivered", func() bool { return delivered(t, h) == 1 })
	mu.Lock()
	defer mu.Unlock()
	if last != "<rss>2</rss>" {
		t.Errorf("last delivery %q", last)
	}
}
