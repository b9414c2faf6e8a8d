package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/store/storetest"
	"github.com/yongzhou-news/syndicate/web"
)

// The cache keeps feeds gzip-compressed; identity requests get the same bytes, inflated and kept
// for recently requested feeds up to the identity budget.
func TestFeedsAreHeldCompressed(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tree, err := syndicate.NewTree([]syndicate.Channel{
		{Slug: "lingling", Title: "零陵", Schedule: "@hourly", Limit: 50},
		{Slug: "qiyang", Title: "祁阳", Schedule: "@hourly", Limit: 50},
	})
	if err != nil {
		t.Fatal(err)
	}
	site := syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", TagDate: "2026"}
	for i := range 40 {
		a := storetest.Article(fmt.Sprint("a", i), i, "lingling", "qiyang")
		a.ContentHTML = fmt.Sprintf("<p>%d 零陵区 疫情防控 %s</p>", i, bytes.Repeat([]byte("冲得上,豁得出。"), 50))
		if _, err := st.UpsertArticle(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	b := &build.Builder{Store: st, Tree: tree, Site: site, SubjectPrefix: "syndicate"}
	for _, slug := range []string{"lingling", "qiyang"} {
		if _, err := b.Build(ctx, slug); err != nil {
			t.Fatal(err)
		}
	}
	rss, err := st.Document(ctx, "lingling", syndicate.FormatRSS)
	if err != nil || rss.Gzip == nil {
		t.Fatalf("stored document: gzip %d bytes, %v; want the build's gzip", len(rss.Gzip), err)
	}
	// Room for one identity body.
	s := web.New(web.Options{Store: st, Tree: tree, Site: site, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		IdentityCacheBytes: len(rss.Body) + len(rss.Body)/2})
	if err := s.LoadDocuments(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	docs, identity := s.Cache().Memory()
	var gzTotal int
	for _, ch := range []string{"lingling", "qiyang"} {
		for _, f := range syndicate.Formats {
			d, err := st.Document(ctx, ch, f)
			if err != nil {
				t.Fatal(err)
			}
			gzTotal += len(d.Gzip)
		}
	}
	if docs != gzTotal || identity != 0 {
		t.Fatalf("after loading: cache holds %d B of documents and %d B of identity bodies; want the %d B of gzip and none", docs, identity, gzTotal)
	}

	get := func(path string, header ...string) (*http.Response, []byte) {
		t.Helper()
		resp, body := do(t, "GET", srv.URL+path, "", header...)
		return resp, []byte(body)
	}
	resp, body := get("/feeds/lingling.rss")
	if resp.StatusCode != 200 || !bytes.Equal(body, rss.Body) || resp.Header.Get("Content-Encoding") != "" || resp.Header.Get("ETag") != rss.ETag {
		t.Fatalf("identity: %d, %d bytes, encoding %q, ETag %s; want the stored %d bytes, ETag %s",
			resp.StatusCode, len(body), resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"), len(rss.Body), rss.ETag)
	}
	if _, identity = s.Cache().Memory(); identity != len(rss.Body) {
		t.Errorf("after one identity request %d B of identity bodies are kept; want %d", identity, len(rss.Body))
	}
	resp, body = get("/feeds/lingling.rss", "Accept-Encoding", "gzip")
	if resp.StatusCode != 200 || !bytes.Equal(body, rss.Gzip) || resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip: %d, %d bytes, encoding %q; want the build's %d gzip bytes", resp.StatusCode, len(body), resp.Header.Get("Content-Encoding"), len(rss.Gzip))
	}
	if plain, err := io.ReadAll(must(gzip.NewReader(bytes.NewReader(body)))); err != nil || !bytes.Equal(plain, rss.Body) {
		t.Errorf("gzip body does not inflate to the document: %v", err)
	}
	// A second feed pushes the first out of the budget; both are still served whole.
	atom, _ := st.Document(ctx, "qiyang", syndicate.FormatAtom)
	if _, body = get("/feeds/qiyang.atom"); !bytes.Equal(body, atom.Body) {
		t.Error("second identity feed differs from the stored document")
	}
	if used, _ := s.Cache().Memory(); used != gzTotal {
		t.Errorf("documents take %d B after identity requests; want %d", used, gzTotal)
	}
	if _, identity = s.Cache().Memory(); identity != len(atom.Body) {
		t.Errorf("identity bodies: %d B; want only the newest, %d B", identity, len(atom.Body))
	}
	if _, body = get("/feeds/lingling.rss"); !bytes.Equal(body, rss.Body) {
		t.Error("evicted feed is not served whole again")
	}
	// A build replaces the document: its old identity body goes too.
	changed := []byte("<rss>更正</rss>" + string(bytes.Repeat([]byte(" "), 4000)))
	if err := s.Cache().Put(syndicate.Document{Channel: "lingling", Format: "rss", Body: changed, ETag: syndicate.ETagOf(changed), Modified: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, identity = s.Cache().Memory(); identity != 0 {
		t.Errorf("identity bodies after the feed was replaced: %d B; want 0", identity)
	}
	if _, body = get("/feeds/lingling.rss"); !bytes.Equal(body, changed) {
		t.Errorf("replaced feed: got %d bytes, want the new %d", len(body), len(changed))
	}
	// Gzip bytes that do not inflate fail the identity request only.
	bad := syndicate.Document{Channel: "qiyang", Format: "rss", Body: rss.Body, Gzip: append([]byte(nil), rss.Gzip[:len(rss.Gzip)/2]...), ETag: rss.ETag, Modified: time.Now()}
	if err := s.Cache().Put(bad); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get("/feeds/qiyang.rss"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("identity request for a broken gzip body: %d, want 500", resp.StatusCode)
	}
	if resp, body := get("/feeds/qiyang.rss", "Accept-Encoding", "gzip"); resp.StatusCode != 200 || !bytes.Equal(body, bad.Gzip) {
		t.Errorf("gzip request for a broken gzip body: %d, want 200 with the stored bytes", resp.StatusCode)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
