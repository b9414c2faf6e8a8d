package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// upstream is an RSS server with ETag support whose items the test can change.
type upstream struct {
	mu       sync.Mutex
	items    []string // item titles
	status   int      // forced status, 0 for normal
	requests atomic.Int32
	lastINM  string
}

func (u *upstream) rss() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>上游</title><link>http://up.example/</link><description>d</description>`)
	for i, title := range u.items {
		fmt.Fprintf(&b, `<item><title>%s</title><link>http://up.example/%d</link><guid>up-%d</guid><description>摘要 %d</description><author>x@up.example (记者)</author><pubDate>Wed, 16 Nov 2022 08:00:00 +0800</pubDate></item>`, title, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.requests.Add(1)
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lastINM = r.Header.Get("If-None-Match")
	if !strings.HasPrefix(r.Header.Get("User-Agent"), "Syndicate/") {
		http.Error(w, "no user agent", http.StatusForbidden)
		return
	}
	if u.status != 0 {
		w.WriteHeader(u.status)
		return
	}
	body := u.rss()
	etag := syndicate.ETagOf([]byte(body))
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/rss+xml")
	io.WriteString(w, body)
}

func newPoller(t *testing.T) (*ingest.Poller, *sqlite.DB) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tree, _ := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵"}})
	return &ingest.Poller{
		Store: st, Tree: tree, Client: ingest.NewClient(ingest.ClientOptions{Timeout: 5 * time.Second, MaxRedirects: 3, Policy: ingest.AddressPolicy{AllowPrivate: true}}), UserAgent: "Syndicate/test",
		MaxBytes: 1 << 20, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BackoffBase: time.Minute, BackoffMax: time.Hour,
	}, st
}

func TestConditionalPollsAndUpdates(t *testing.T) {
	up := &upstream{items: []string{"第一条", "第二条"}}
	srv := httptest.NewServer(up)
	defer srv.Close()
	p, st := newPoller(t)
	src := ingest.Source{Name: "up", URL: srv.URL, Channels: []string{"lingling"}}
	ctx := context.Background()

	res, err := p.Poll(ctx, src)
	if err != nil || res.Created != 2 || res.Items != 2 {
		t.Fatalf("first poll = %+v, %v", res, err)
	}
	res, err = p.Poll(ctx, src)
	if err != nil || !res.NotModified || res.Created+res.Updated != 0 {
		t.Fatalf("second poll = %+v, %v; want 304 and no change", res, err)
	}
	if up.lastINM == "" {
		t.Error("second poll sent no If-None-Match")
	}

	up.mu.Lock()
	up.items[1] = "第二条(更新)"
	up.mu.Unlock()
	res, err = p.Poll(ctx, src)
	if err != nil || res.Updated != 1 || res.Unchanged != 1 || res.Created != 0 {
		t.Fatalf("poll after change = %+v, %v; want one update", res, err)
	}
	items, _ := st.NewestItems(ctx, []string{"lingling"}, 10)
	var titles []string
	for _, a := range items {
		titles = append(titles, a.Title)
		if !strings.HasPrefix(a.ID, "up:") || a.Authors[0] != "记者" || a.URL == "" {
			t.Errorf("stored article %+v", a)
		}
	}
	if !strings.Contains(strings.Join(titles, ","), "第二条(更新)") {
		t.Errorf("titles %v", titles)
	}
}

func TestOversizedBodyFailsCleanly(t *testing.T) {
	big := strings.Repeat("x", 10<<20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>`+big+`</title></channel></rss>`)
	}))
	defer srv.Close()
	p, st := newPoller(t)
	_, err := p.Poll(context.Background(), ingest.Source{Name: "big", URL: srv.URL, Channels: []string{"lingling"}})
	if err == nil || !strings.Contains(err.Error(), "cap") {
		t.Fatalf("10 MB body with a 1 MB cap: err = %v", err)
	}
	if n, _ := st.ArticleCount(context.Background()); n != 0 {
		t.Errorf("%d articles stored from a rejected response", n)
	}
}

func TestFailingSourceBacksOff(t *testing.T) {
	up := &upstream{status: http.StatusInternalServerError}
	srv := httptest.NewServer(up)
	defer srv.Close()
	p, _ := newPoller(t)
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	p.Now = func() time.Time { return now }
	var results []string
	p.Fetched = func(_, r string) { results = append(results, r) }
	src := ingest.Source{Name: "down", URL: srv.URL, Channels: []string{"lingling"}}

	if _, err := p.Poll(context.Background(), src); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("500: err = %v", err)
	}
	if _, err := p.Poll(context.Background(), src); !errors.Is(err, ingest.ErrBackingOff) {
		t.Fatalf("poll during backoff: err = %v", err)
	}
	if up.requests.Load() != 1 {
		t.Errorf("%d requests; a backing-off source must not be fetched", up.requests.Load())
	}
	now = now.Add(61 * time.Second)
	up.mu.Lock()
	up.status, up.items = 0, []string{"恢复"}
	up.mu.Unlock()
	if res, err := p.Poll(context.Background(), src); err != nil || res.Created != 1 {
		t.Fatalf("after backoff: %+v, %v", res, err)
	}
	if strings.Join(results, ",") != "error,backoff,ok" {
		t.Errorf("fetch results %v", results)
	}
}

func TestBrokenFeedIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<html><body>not a feed</body></html>`)
	}))
	defer srv.Close()
	p, _ := newPoller(t)
	if _, err := p.Poll(context.Background(), ingest.Source{Name: "html", URL: srv.URL, Channels: []string{"lingling"}}); err == nil {
		t.Fatal("an HTML page was accepted as a feed")
	}
}
