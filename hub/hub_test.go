package hub

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/websub"
)

var site = syndicate.Site{Title: "News", BaseURL: "https://news.example", TagDate: "2026-01-01"}

func testTree(t testing.TB) *syndicate.Tree {
	t.Helper()
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "local", Title: "Local"}, {Slug: "sports", Title: "Sports"}})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

func openSQLite(t testing.TB) *sqlite.DB {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// fast returns options whose retries come within milliseconds; callbacks are test servers on
// 127.0.0.1, so internal addresses are allowed unless a test says otherwise. A request times out
// only after testwait.Timeout: no test waits for one to, and a loaded machine's slow answer must
// not turn into a failed verification or delivery.
func fast(st Store, tree *syndicate.Tree) Options {
	return Options{Store: st, Site: site, Tree: tree, Log: slog.New(slog.DiscardHandler), Policy: ingest.AddressPolicy{AllowPrivate: true}, Timeout: testwait.Timeout,
		Rate: 1000, Burst: 1000,
		Delivery: websub.Options{BackoffBase: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond, Poll: 20 * time.Millisecond, MaxAttempts: 10}}
}

func startHub(t *testing.T, opt Options) (*Hub, *httptest.Server) {
	t.Helper()
	h := New(opt)
	h.Start()
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Close(ctx)
	})
	return h, srv
}

// commitDoc saves a new document of channel's feed in format, as a build would, and returns it.
func commitDoc(t testing.TB, st store.Store, channel, format, body string) syndicate.Document {
	t.Helper()
	d := syndicate.Document{Channel: channel, Format: format, Body: []byte(body), ETag: syndicate.ETagOf([]byte(body)), Modified: time.Now().Truncate(time.Second)}
	if err := st.CommitBuild(context.Background(), store.Build{Channel: channel, Documents: []syndicate.Document{d}}); err != nil {
		t.Fatal(err)
	}
	return d
}

// subscriber is a WebSub subscriber written from the Recommendation (§5.3, §7): it echoes
// challenges as told, and records what the hub sends.
type subscriber struct {
	*httptest.Server
	echo   func(q url.Values) (int, string) // answer to a verification; nil echoes the challenge
	status func(n int) int                  // answer to the n-th delivery (from 1); nil: 204

	mu         sync.Mutex
	gets       []url.Values
	posts      []delivery
	postsCount atomic.Int64
}

type delivery struct {
	body   []byte
	header http.Header
	status int
}

func newSubscriber(t *testing.T) *subscriber {
	s := &subscriber{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			q := r.URL.Query()
			s.mu.Lock()
			s.gets = append(s.gets, q)
			echo := s.echo
			s.mu.Unlock()
			code, body := http.StatusOK, q.Get("hub.challenge")
			if echo != nil {
				code, body = echo(q)
			}
			w.WriteHeader(code)
			io.WriteString(w, body)
		case http.MethodPost:
			body, _ := io.ReadAll(r.Body)
			n := int(s.postsCount.Add(1))
			code := http.StatusNoContent
			if s.status != nil {
				code = s.status(n)
			}
			s.mu.Lock()
			s.posts = append(s.posts, delivery{body: body, header: r.Header.Clone(), status: code})
			s.mu.Unlock()
			w.WriteHeader(code)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *subscriber) verifications() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.gets...)
}

func (s *subscriber) deliveries() []delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivery(nil), s.posts...)
}

func postForm(t *testing.T, hubURL string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(hubURL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func subscribe(t *testing.T, hubURL, callback, topic string, extra ...string) {
	t.Helper()
	form := url.Values{"hub.mode": {"subscribe"}, "hub.callback": {callback}, "hub.topic": {topic}}
	for i := 0; i+1 < len(extra); i += 2 {
		form.Set(extra[i], extra[i+1])
	}
	if code, body := postForm(t, hubURL, form); code != http.StatusAccepted {
		t.Fatalf("subscribe: %d %s; want 202", code, body)
	}
}

func count(h *Hub, mode, outcome string) float64 {
	return testutil.ToFloat64(h.m.verifications.WithLabelValues(mode, outcome))
}

func subscribers(t *testing.T, st store.Subscriptions, topic string, now time.Time) []store.Subscription {
	t.Helper()
	subs, err := st.SubscribersOf(context.Background(), []string{topic}, now)
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

// Verification of intent (§5.3): only a subscriber that answers 2xx with exactly the challenge
// is subscribed.
func TestVerificationOfIntent(t *testing.T) {
	topic := site.FeedURL("local", "rss")
	for _, tc := range []struct {
		name    string
		echo    func(url.Values) (int, string)
		outcome string
	}{
		{"accepted", nil, "verified"},
		{"refused by the subscriber", func(url.Values) (int, string) { return http.StatusNotFound, "" }, "failed"},
		{"wrong challenge echoed", func(q url.Values) (int, string) { return http.StatusOK, q.Get("hub.challenge") + "x" }, "failed"},
		{"challenge with more", func(q url.Values) (int, string) { return http.StatusOK, q.Get("hub.challenge") + "\n" }, "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openSQLite(t)
			h, srv := startHub(t, fast(st, testTree(t)))
			sub := newSubscriber(t)
			sub.echo = tc.echo
			subscribe(t, srv.URL, sub.URL+"/cb?reader=7", topic, "hub.lease_seconds", "3600")
			testwait.For(t, "verification "+tc.outcome, func() bool { return count(h, "subscribe", tc.outcome) == 1 })
			v := sub.verifications()
			if len(v) != 1 {
				t.Fatalf("%d verification requests, want 1", len(v))
			}
			q := v[0]
			if q.Get("hub.mode") != "subscribe" || q.Get("hub.topic") != topic || len(q.Get("hub.challenge")) < 16 ||
				q.Get("hub.lease_seconds") != "3600" || q.Get("reader") != "7" {
				t.Errorf("verification query %v", q)
			}
			subs := subscribers(t, st, topic, time.Now())
			if want := tc.outcome == "verified"; (len(subs) == 1) != want {
				t.Fatalf("subscribers %v; subscribed: want %v", subs, want)
			}
		})
	}
}

// A topic that is no channel feed of this service is denied (§5.2); the site-wide feed and
// archive pages are not topics.
func TestDeniedTopics(t *testing.T) {
	for _, topic := range []string{
		"https://elsewhere.example/feed.xml",
		site.FeedURL(syndicate.SiteFeed, "rss"),
		site.BaseURL + "/feeds/local/archive/1.rss",
	} {
		st := openSQLite(t)
		h, srv := startHub(t, fast(st, testTree(t)))
		sub := newSubscriber(t)
		subscribe(t, srv.URL, sub.URL, topic)
		testwait.For(t, "denial", func() bool { return count(h, "subscribe", "denied") == 1 })
		v := sub.verifications()
		if len(v) != 1 || v[0].Get("hub.mode") != "denied" || v[0].Get("hub.topic") != topic || v[0].Get("hub.reason") == "" {
			t.Fatalf("%s: denial %v", topic, v)
		}
		if len(subscribers(t, st, topic, time.Now())) != 0 {
			t.Fatalf("%s: subscribed", topic)
		}
	}
}

// Content distribution (§7): the new document, its Content-Type, Link headers and an HMAC-SHA256
// signature that an independent computation agrees with.
func TestSignedDelivery(t *testing.T) {
	st := openSQLite(t)
	h, srv := startHub(t, fast(st, testTree(t)))
	topic := site.FeedURL("local", "atom")
	signed, plain := newSubscriber(t), newSubscriber(t)
	const secret = "s3cr3t-of-the-subscriber"
	subscribe(t, srv.URL, signed.URL, topic, "hub.secret", secret)
	subscribe(t, srv.URL, plain.URL, topic)
	testwait.For(t, "two verified", func() bool { return count(h, "subscribe", "verified") == 2 })

	doc := commitDoc(t, st, "local", "atom", `<feed xmlns="http://www.w3.org/2005/Atom"><title>零陵</title></feed>`)
	commitDoc(t, st, "sports", "atom", `<feed/>`)
	h.Publish(doc, syndicate.Document{Channel: "sports", Format: "atom", Body: []byte("<feed/>"), ETag: syndicate.ETagOf([]byte("<feed/>"))})
	testwait.For(t, "both delivered", func() bool { return len(signed.deliveries()) == 1 && len(plain.deliveries()) == 1 })

	got := signed.deliveries()[0]
	if string(got.body) != string(doc.Body) {
		t.Errorf("body %q, want %q", got.body, doc.Body)
	}
	if ct := got.header.Get("Content-Type"); ct != syndicate.ContentTypes["atom"] {
		t.Errorf("Content-Type %q", ct)
	}
	link := got.header.Get("Link")
	if !strings.Contains(link, "<"+h.URL()+`>; rel="hub"`) || !strings.Contains(link, "<"+topic+`>; rel="self"`) {
		t.Errorf("Link %q", link)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(got.body)
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); got.header.Get("X-Hub-Signature") != want {
		t.Errorf("X-Hub-Signature %q, want %q", got.header.Get("X-Hub-Signature"), want)
	}
	if s := plain.deliveries()[0].header.Get("X-Hub-Signature"); s != "" {
		t.Errorf("unsigned subscription got X-Hub-Signature %q", s)
	}
	h.Flush()
	testwait.For(t, "queue drained", func() bool { d, _, _ := st.QueueStats(context.Background(), KindDistribute); return d == 0 })
	if n := len(signed.deliveries()); n != 1 {
		t.Errorf("%d deliveries, want 1 (sports has no subscriber of this callback)", n)
	}
	if n := testutil.CollectAndCount(h.m.latency); n != 1 {
		t.Errorf("latency histogram series %d", n)
	}
}

// Requests the hub refuses at once.
func TestBadRequests(t *testing.T) {
	st := openSQLite(t)
	_, srv := startHub(t, fast(st, testTree(t)))
	topic := site.FeedURL("local", "rss")
	for _, tc := range []struct {
		name string
		form url.Values
	}{
		{"no mode", url.Values{"hub.callback": {"https://r.example/"}, "hub.topic": {topic}}},
		{"publish", url.Values{"hub.mode": {"publish"}, "hub.url": {topic}}},
		{"ftp callback", url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"ftp://r.example/"}, "hub.topic": {topic}}},
		{"relative callback", url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"/cb"}, "hub.topic": {topic}}},
		{"userinfo", url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"https://u:p@r.example/"}, "hub.topic": {topic}}},
		{"long secret", url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"https://r.example/"}, "hub.topic": {topic}, "hub.secret": {strings.Repeat("s", 200)}}},
		{"bad lease", url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"https://r.example/"}, "hub.topic": {topic}, "hub.lease_seconds": {"-5"}}},
		{"signed lease", url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"https://r.example/"}, "hub.topic": {topic}, "hub.lease_seconds": {"+5"}}},
		{"long callback", url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"https://r.example/" + strings.Repeat("a", 2100)}, "hub.topic": {topic}}},
		{"mode twice", url.Values{"hub.mode": {"subscribe", "unsubscribe"}, "hub.callback": {"https://r.example/"}, "hub.topic": {topic}}},
		{"callback twice", url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"https://r.example/", "https://other.example/"}, "hub.topic": {topic}}},
	} {
		if code, _ := postForm(t, srv.URL, tc.form); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", tc.name, code)
		}
	}
	// §5.1: the parameters come as a form, and nothing else is read as one.
	form := url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"https://r.example/"}, "hub.topic": {topic}}
	for _, ct := range []string{"application/json", "text/plain", "multipart/form-data; boundary=x", ""} {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %d, want 415", ct, resp.StatusCode)
		}
	}
	if code, _ := postFormType(t, srv.URL, "application/x-www-form-urlencoded; charset=UTF-8", form); code != http.StatusAccepted {
		t.Errorf("form with charset: %d, want 202", code)
	}
	big := url.Values{"hub.mode": {"subscribe"}, "hub.callback": {"https://r.example/"}, "hub.topic": {topic}, "pad": {strings.Repeat("a", 20000)}}
	if code, body := postFormType(t, srv.URL, "application/x-www-form-urlencoded", big); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than") {
		t.Errorf("a 20 kB form: %d %q, want 413 saying the body is too large", code, body)
	}
}

func postFormType(t *testing.T, hubURL, contentType string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.Post(hubURL, contentType, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
