package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/bench/bare"
	"github.com/yongzhou-news/syndicate/bench/feeddata"
	"github.com/yongzhou-news/syndicate/metrics"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// sink is a ResponseWriter that keeps nothing but the status and the byte count, so a benchmark
// measures the handler, not a recorder's buffer.
type sink struct {
	h      http.Header
	status int
	n      int
}

func (w *sink) Header() http.Header { return w.h }

func (w *sink) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *sink) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// reset readies w for the next request. net/http makes a fresh header map for every request, so
// the benchmark does too: growing it is part of what a handler that sets many headers costs.
func (w *sink) reset() {
	w.h = make(http.Header)
	w.status, w.n = 0, 0
}

// benchDocs renders the 零陵 channel's 50-item full-text feeds, as the load test serves them.
func benchDocs(b *testing.B) (*syndicate.Tree, []syndicate.Document) {
	b.Helper()
	tree, err := feeddata.Tree(1)
	if err != nil {
		b.Fatal(err)
	}
	docs, err := feeddata.Documents(tree, 0)
	if err != nil {
		b.Fatal(err)
	}
	return tree, docs
}

// benchHandler runs the three requests a feed reader makes against h: a first fetch with gzip, a
// revalidation that matches (304), and a fetch without gzip.
func benchHandler(b *testing.B, h http.Handler, gzipETag string) {
	benchPath(b, h, "/feeds/lingling.rss", gzipETag)
}

// benchPath runs the three requests against path.
func benchPath(b *testing.B, h http.Handler, path, gzipETag string) {
	cases := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"gzip", map[string]string{"Accept-Encoding": "gzip"}, http.StatusOK},
		{"304", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": gzipETag}, http.StatusNotModified},
		{"identity", nil, http.StatusOK},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, path, nil)
			for k, v := range c.header {
				r.Header.Set(k, v)
			}
			w := &sink{}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, r)
			}
			if w.status != c.status {
				b.Fatalf("status %d, want %d", w.status, c.status)
			}
			b.ReportMetric(float64(w.n), "bytes/resp")
		})
	}
}

func newBenchServer(b *testing.B, m *metrics.Metrics) (http.Handler, string) {
	tree, docs := benchDocs(b)
	s := web.New(web.Options{Tree: tree, Site: feeddata.Site, Metrics: m, Hubs: []string{"https://websub.example.org/hub"}})
	if err := s.Cache().Put(docs...); err != nil {
		b.Fatal(err)
	}
	// The gzip representation's ETag, as a reader that got the gzip body sends it back.
	w := &sink{}
	w.reset()
	r := httptest.NewRequest(http.MethodGet, "/feeds/lingling.rss", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	s.Handler().ServeHTTP(w, r)
	return s.Handler(), w.h.Get("Etag")
}

// BenchmarkServeFeed is the feed hot path as production runs it: the mux, the metrics middleware
// and the feed handler, for a 50-item full-text RSS document.
func BenchmarkServeFeed(b *testing.B) {
	h, etag := newBenchServer(b, metrics.New())
	benchHandler(b, h, etag)
}

// BenchmarkServeDirectory is GET / as production serves it, behind the same layers as a feed:
// the directory of the benchmark tree (县市区 and 零陵 with its 50 articles in a real SQLite
// store), rendered once after the documents were put and served from the page cache.
func BenchmarkServeDirectory(b *testing.B) {
	tree, docs := benchDocs(b)
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := feeddata.StoreArticles(context.Background(), st, tree, 1); err != nil {
		b.Fatal(err)
	}
	s := web.New(web.Options{Store: st, Tree: tree, Site: feeddata.Site, Metrics: metrics.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.Cache().Put(docs...); err != nil {
		b.Fatal(err)
	}
	w := &sink{}
	w.reset()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Encoding", "gzip")
	s.Handler().ServeHTTP(w, r)
	if w.status != http.StatusOK {
		b.Fatalf("GET /: %d", w.status)
	}
	benchPath(b, s.Handler(), "/", w.h.Get("Etag"))
}

// BenchmarkServeFeedNoMetrics is the same without metrics: the difference is their price.
func BenchmarkServeFeedNoMetrics(b *testing.B) {
	h, etag := newBenchServer(b, nil)
	benchHandler(b, h, etag)
}

// BenchmarkServeFeedBare is the ceiling: a minimal handler writing the same bytes.
func BenchmarkServeFeedBare(b *testing.B) {
	_, docs := benchDocs(b)
	h := bare.New()
	if err := h.Add(docs...); err != nil {
		b.Fatal(err)
	}
	benchHandler(b, h, h.Entries()["/feeds/lingling.rss"].GzipETag)
}
