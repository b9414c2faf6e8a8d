package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed/atom"
	jsonfeed "github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/store/storetest"
	"github.com/yongzhou-news/syndicate/web"
)

const publicBase = "http://localhost:8080"

// archiveEnv is a real SQLite store, a builder that puts what it renders into the server's cache
// as the app does, and the server behind real HTTP.
type archiveEnv struct {
	t    *testing.T
	st   store.Store
	b    *build.Builder
	srv  *httptest.Server
	ids  []string // every stored article, in the order they were created
	opts web.Options
}

func newArchiveEnv(t *testing.T) *archiveEnv {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newArchiveEnvOn(t, st, 50)
}

// newArchiveEnvOn is newArchiveEnv on any store, with channels of the given limit.
func newArchiveEnvOn(t *testing.T, st store.Store, limit int) *archiveEnv {
	t.Helper()
	tree, err := syndicate.NewTree([]syndicate.Channel{
		{Slug: "xianshiqu", Title: "县市区", Schedule: "*/10 * * * *", Limit: limit},
		{Slug: "lingling", Title: "零陵", Parent: "xianshiqu", Schedule: "*/10 * * * *", Limit: limit},
		{Slug: "qiyang", Title: "祁阳", Parent: "xianshiqu", Schedule: "*/10 * * * *", Limit: limit},
		{Slug: "zhengwu", Title: "政务", Schedule: "*/10 * * * *", Limit: limit},
	})
	if err != nil {
		t.Fatal(err)
	}
	site := syndicate.Site{Title: "红网永州站", BaseURL: publicBase, Language: "zh-CN", Timezone: "Asia/Shanghai", TagDate: "2026"}
	xsl := map[string][]byte{}
	for _, f := range []string{syndicate.FormatRSS, syndicate.FormatAtom} {
		xsl[build.StylesheetPath(f)], _ = feed.XSL(f)
	}
	opts := web.Options{Store: st, Tree: tree, Site: site, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stylesheets: xsl}
	s := web.New(opts)
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	b := &build.Builder{
		Store: st, Site: site, Tree: tree, SubjectPrefix: "syndicate", Stylesheets: true,
		Now: func() time.Time { now = now.Add(time.Minute); return now },
		Committed: func(r build.Result) {
			if err := s.Cache().Put(r.Documents...); err != nil {
				t.Error(err)
			}
		},
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &archiveEnv{t: t, st: st, b: b, srv: srv, opts: opts}
}

// add stores n more articles in 零陵, each published a minute after the previous one.
func (e *archiveEnv) add(n int) {
	e.t.Helper()
	for range n {
		i := len(e.ids)
		e.upsert(storetest.Article(fmt.Sprintf("n%03d", i), i, "lingling"))
	}
}

func (e *archiveEnv) upsert(a syndicate.Article) {
	e.t.Helper()
	if _, err := e.st.UpsertArticle(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
	e.ids = append(e.ids, a.ID)
}

func (e *archiveEnv) build() {
	e.t.Helper()
	if _, err := e.b.Build(context.Background(), "lingling"); err != nil {
		e.t.Fatal(err)
	}
}

// get fetches a public URL from the test server; it must answer 200.
func (e *archiveEnv) get(url string, header ...string) (*http.Response, []byte) {
	e.t.Helper()
	path, ok := strings.CutPrefix(url, publicBase)
	if !ok {
		e.t.Fatalf("link %q is not under %s", url, publicBase)
	}
	resp, body := do(e.t, "GET", e.srv.URL+path, "", header...)
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return resp, []byte(body)
}

// parsed is what the archive walk needs of one document.
type parsed struct {
	links   map[string]string // by rel: self, current, prev-archive, next-archive
	ids     []string          // item ids, in document order
	archive bool              // carries <fh:archive/>
}

// parse reads a document with gofeed's format parsers, which keep what its universal model
// drops: Atom links with their rel, RSS atom:link and fh:archive as extensions, JSON next_url.
func parse(t *testing.T, format string, body []byte) parsed {
	t.Helper()
	p := parsed{links: map[string]string{}}
	switch format {
	case syndicate.FormatAtom:
		f, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gofeed atom: %v", err)
		}
		for _, l := range f.Links {
			p.links[l.Rel] = l.Href
		}
		for _, en := range f.Entries {
			p.ids = append(p.ids, en.ID)
		}
		p.archive = len(f.Extensions["fh"]["archive"]) > 0
	case syndicate.FormatRSS:
		f, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gofeed rss: %v", err)
		}
		for _, l := range f.Extensions["atom"]["link"] {
			p.links[l.Attrs["rel"]] = l.Attrs["href"]
		}
		for _, it := range f.Items {
			p.ids = append(p.ids, it.GUID.Value)
		}
		p.archive = len(f.Extensions["fh"]["archive"]) > 0
	case syndicate.FormatJSON:
		f, err := (&jsonfeed.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gofeed json: %v", err)
		}
		if f.NextURL != "" {
			p.links["next"] = f.NextURL
		}
		for _, it := range f.Items {
			p.ids = append(p.ids, it.ID)
		}
	}
	return p
}

// walk reads the subscription feed in format and follows its archive links back to page 1:
// prev-archive in RSS and Atom, next_url (towards older items) in JSON Feed. It checks every
// page on the way and returns the feed's items and each page's, newest page first.
func (e *archiveEnv) walk(format string) (current []string, pages [][]string) {
	t := e.t
	t.Helper()
	older := "prev-archive"
	if format == syndicate.FormatJSON {
		older = "next"
	}
	feedURL := publicBase + "/feeds/lingling." + format
	_, body := e.get(feedURL)
	sub := parse(t, format, body)
	if sub.archive || bytes.Contains(body, []byte("fh:archive")) {
		t.Errorf("%s: the subscription feed is marked as an archive", format)
	}
	current = sub.ids
	wantPage := feed.CompletePages(len(e.ids))
	for next := sub.links[older]; next != ""; wantPage-- {
		if want := fmt.Sprintf("%s/feeds/lingling/archive/%d.%s", publicBase, wantPage, format); next != want {
			t.Fatalf("%s: link to %s, want %s", format, next, want)
		}
		resp, body := e.get(next)
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", next, cc)
		}
		if resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
			t.Errorf("%s: no validators: %v", next, resp.Header)
		}
		if ct := resp.Header.Get("Content-Type"); ct != syndicate.ContentTypes[format] {
			t.Errorf("%s: Content-Type %q", next, ct)
		}
		p := parse(t, format, body)
		if len(p.ids) != feed.ArchivePageSize {
			t.Errorf("%s: %d items, want %d", next, len(p.ids), feed.ArchivePageSize)
		}
		if format != syndicate.FormatJSON {
			if !p.archive {
				t.Errorf("%s: no fh:archive", next)
			}
			if p.links["self"] != next || p.links["current"] != feedURL {
				t.Errorf("%s: self %q, current %q", next, p.links["self"], p.links["current"])
			}
			wantNext := ""
			if wantPage < feed.CompletePages(len(e.ids)) {
				wantNext = fmt.Sprintf("%s/feeds/lingling/archive/%d.%s", publicBase, wantPage+1, format)
			}
			if p.links["next-archive"] != wantNext {
				t.Errorf("%s: next-archive %q, want %q", next, p.links["next-archive"], wantNext)
			}
		}
		pages = append(pages, p.ids)
		next = p.links[older]
		if len(pages) > 100 {
			t.Fatal("archive links loop")
		}
	}
	if wantPage != 0 {
		t.Errorf("%s: the walk stopped before page 1 (at %d)", format, wantPage+1)
	}
	return current, pages
}

// checkUnion checks that the archive pages hold distinct items and, with the feed, every article.
func (e *archiveEnv) checkUnion(format string, current []string, pages [][]string) {
	t := e.t
	t.Helper()
	inArchive := map[string]int{}
	for i, page := range pages {
		for _, id := range page {
			if j, dup := inArchive[id]; dup {
				t.Errorf("%s: %s is on two archive pages (%d and %d from the newest)", format, id, j, i)
			}
			inArchive[id] = i
		}
	}
	// The feed holds the newest items by publication and may repeat some of the newest archive
	// page (RFC 5005 §4.2: readers keep the newest copy of an entry); only the union must be
	// exactly the stored articles.
	all := map[string]bool{}
	for id := range inArchive {
		all[id] = true
	}
	for _, id := range current {
		all[id] = true
	}
	if len(all) != len(e.ids) {
		t.Errorf("%s: feed and archive hold %d distinct items, want %d", format, len(all), len(e.ids))
	}
	for _, id := range e.ids {
		if !all["tag:localhost,2026:article/"+id] {
			t.Errorf("%s: %s is in neither the feed nor the archive", format, id)
		}
	}
}

func TestArchiveWalk(t *testing.T) {
	e := newArchiveEnv(t)
	e.add(180)
	e.build()

	formats := []string{syndicate.FormatAtom, syndicate.FormatRSS, syndicate.FormatJSON}
	type rendered struct{ body, etag string }
	first := map[string]rendered{} // "n.format" → pages 1–3 as first served
	for _, f := range formats {
		current, pages := e.walk(f)
		if len(pages) != 3 {
			t.Fatalf("%s: %d archive pages, want 3", f, len(pages))
		}
		e.checkUnion(f, current, pages)
		for n := 1; n <= 3; n++ {
			resp, body := e.get(fmt.Sprintf("%s/feeds/lingling/archive/%d.%s", publicBase, n, f))
			first[fmt.Sprint(n, ".", f)] = rendered{string(body), resp.Header.Get("ETag")}
		}
	}
	notFound := func(path string) {
		t.Helper()
		if resp, _ := do(t, "GET", e.srv.URL+path, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	for _, path := range []string{
		"/feeds/lingling/archive/4.atom", // not complete
		"/feeds/lingling/archive/0.atom", "/feeds/lingling/archive/03.atom", "/feeds/lingling/archive/x.atom",
		"/feeds/lingling/archive/1.html", "/feeds/lingling/archive/1", "/feeds/mars/archive/1.atom",
		"/feeds/all/archive/1.atom", // no site-wide feed is built here
	} {
		notFound(path)
	}

	// 19 more articles, one of them back-dated, complete no page: pages 1–3 keep their bytes
	// and ETags, page 4 does not exist yet, and the feed still links to page 3.
	e.add(18)
	e.upsert(storetest.Article("back-dated", -1000, "lingling"))
	e.build()
	same := func(pages ...int) {
		t.Helper()
		for _, n := range pages {
			for _, f := range formats {
				resp, body := e.get(fmt.Sprintf("%s/feeds/lingling/archive/%d.%s", publicBase, n, f))
				if was := first[fmt.Sprint(n, ".", f)]; string(body) != was.body || resp.Header.Get("ETag") != was.etag {
					t.Errorf("page %d.%s changed", n, f)
				}
			}
		}
	}
	same(1, 2, 3)
	// A replica that never served them renders the same bytes.
	replica := httptest.NewServer(web.New(e.opts).Handler())
	defer replica.Close()
	for key, was := range first {
		n, f, _ := strings.Cut(key, ".")
		resp, body := do(t, "GET", replica.URL+"/feeds/lingling/archive/"+n+"."+f, "")
		if resp.StatusCode != http.StatusOK || body != was.body || resp.Header.Get("ETag") != was.etag {
			t.Errorf("replica's page %s differs (%d)", key, resp.StatusCode)
		}
	}
	for _, f := range formats {
		notFound("/feeds/lingling/archive/4." + f)
	}
	_, body := e.get(publicBase + "/feeds/lingling.atom")
	if got := parse(t, syndicate.FormatAtom, body).links["prev-archive"]; got != publicBase+"/feeds/lingling/archive/3.atom" {
		t.Errorf("feed's prev-archive %q after items that complete no page", got)
	}

	// The 200th article completes page 4, with the back-dated one on it; the feed links to it,
	// and page 3 gains its next-archive link while its items stay.
	e.add(1)
	e.build()
	for _, f := range formats {
		current, pages := e.walk(f)
		if len(pages) != 4 {
			t.Fatalf("%s: %d archive pages, want 4", f, len(pages))
		}
		e.checkUnion(f, current, pages)
		found := false
		for _, id := range pages[0] {
			found = found || id == "tag:localhost,2026:article/back-dated"
		}
		if !found {
			t.Errorf("%s: the back-dated article is not on page 4", f)
		}
	}
	same(1, 2)
	if _, body := e.get(publicBase + "/feeds/lingling/archive/3.json"); string(body) != first["3.json"].body {
		t.Error("page 3.json changed: JSON pages link only to older pages")
	}
}

// Archive pages answer conditional and gzip requests like feeds.
func TestArchiveValidators(t *testing.T) {
	e := newArchiveEnv(t)
	e.add(feed.ArchivePageSize)
	url := e.srv.URL + "/feeds/lingling/archive/1.atom"
	resp, body := do(t, "GET", url, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<fh:archive>") {
		t.Fatalf("page 1: %d\n%.300s", resp.StatusCode, body)
	}
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag != syndicate.ETagOf([]byte(body)) {
		t.Errorf("ETag %s is not the hash of the body", etag)
	}
	// Last-Modified is the newest item's update, the same on every replica.
	if want := storetest.Article("n049", 49, "lingling").UpdatedAt.UTC().Format(http.TimeFormat); lm != want {
		t.Errorf("Last-Modified %q, want %q", lm, want)
	}
	for _, h := range [][]string{{"If-None-Match", etag}, {"If-None-Match", "W/" + etag}, {"If-Modified-Since", lm}} {
		if r, got := do(t, "GET", url, "", h...); r.StatusCode != http.StatusNotModified || got != "" {
			t.Errorf("%s: %d, want 304", h[0], r.StatusCode)
		}
	}
	gz, _ := do(t, "GET", url, "", "Accept-Encoding", "gzip")
	if gz.Header.Get("Content-Encoding") != "gzip" || gz.Header.Get("ETag") == etag || !strings.HasPrefix(gz.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("gzip: %v", gz.Header)
	}
	if r, _ := do(t, "GET", url, "", "Accept-Encoding", "gzip", "If-None-Match", gz.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("gzip ETag revalidation: %d", r.StatusCode)
	}
	if r, got := do(t, "HEAD", url, ""); r.StatusCode != http.StatusOK || got != "" || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("HEAD: %d, %d bytes, %v", r.StatusCode, len(got), r.Header)
	}
	// An edit to an item on the page shows at once: the cache is checked against the store.
	edited := storetest.Article("n010", 10, "lingling")
	edited.Title = "更正后的标题"
	e.upsert(edited)
	if r, got := do(t, "GET", url, "", "If-None-Match", etag); r.StatusCode != http.StatusOK || !strings.Contains(got, "更正后的标题") {
		t.Errorf("after an edit: %d, edited title present %v", r.StatusCode, strings.Contains(got, "更正后的标题"))
	}
}
