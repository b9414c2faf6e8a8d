package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/metrics"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/store/storetest"
	"github.com/yongzhou-news/syndicate/web"
)

// BenchmarkServeArchive is a complete archive page served from the archive cache, behind the
// same layers as a feed: each request still asks the real SQLite store for its LastChange, so the
// cache's own cost is the difference from BenchmarkServeFeed's.
func BenchmarkServeArchive(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵", Schedule: "*/10 * * * *", Limit: 20}})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 60 { // a complete archive page of 50 (feed.ArchivePageSize)
		if _, err := st.UpsertArticle(ctx, storetest.Article(fmt.Sprintf("n%03d", i), i, "lingling")); err != nil {
			b.Fatal(err)
		}
	}
	site := syndicate.Site{Title: "红网永州站", BaseURL: publicBase, Language: "zh-CN", Timezone: "Asia/Shanghai", TagDate: "2026"}
	s := web.New(web.Options{Store: st, Tree: tree, Site: site, Metrics: metrics.New(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	const path = "/feeds/lingling/archive/1.rss"
	w := &sink{}
	w.reset()
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.Header.Set("Accept-Encoding", "gzip")
	s.Handler().ServeHTTP(w, r)
	if w.status != http.StatusOK {
		b.Fatalf("GET %s: %d", path, w.status)
	}
	benchPath(b, s.Handler(), path, w.h.Get("Etag"))
}
