package web_test

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/sanitize"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// alternates parses a page as browsers do and returns its autodiscovery links by type.
func alternates(t *testing.T, page string) map[string]string {
	t.Helper()
	out := map[string]string{}
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if tok.Data != "link" {
				continue
			}
			attr := map[string]string{}
			for _, a := range tok.Attr {
				attr[a.Key] = a.Val
			}
			if attr["rel"] == "alternate" {
				out[attr["type"]] = attr["href"]
			}
		}
	}
}

func TestPages(t *testing.T) {
	_, srv, st := newServer(t)
	ctx := context.Background()
	hostile := syndicate.Article{ID: "evil", Title: `<script>alert("x")</script>零陵新闻`, Summary: `<img src=x onerror=alert(1)>摘要`,
		ContentHTML: `<p onclick="alert(1)">正文</p><script>alert(2)</script>`, Channels: []string{"lingling"},
		PublishedAt: time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC)}
	hostile.Normalize()
	if _, err := st.UpsertArticle(ctx, hostile); err != nil {
		t.Fatal(err)
	}

	resp, body := do(t, "GET", srv.URL+"/", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "onerror") {
		t.Error("hostile title reached the page unescaped")
	}
	if !strings.Contains(body, "零陵新闻") {
		t.Error("the item title is not on the directory page")
	}
	if i, j := strings.Index(body, "县市区"), strings.Index(body, "零陵</strong>"); i < 0 || j < 0 || i > j {
		t.Error("tree order: 县市区 must come before its child 零陵")
	}
	if alt := alternates(t, body)["application/atom+xml"]; !strings.HasSuffix(alt, "/feeds/all.atom") {
		t.Errorf("site-wide Atom autodiscovery link = %q", alt)
	}

	resp, body = do(t, "GET", srv.URL+"/channels/lingling", "")
	if resp.StatusCode != 200 || strings.Contains(body, "<script>alert") {
		t.Errorf("channel page: %d", resp.StatusCode)
	}
	if alt := alternates(t, body)["application/feed+json"]; alt != "http://localhost:8080/feeds/lingling.json" {
		t.Errorf("channel page JSON Feed autodiscovery = %q", alt)
	}
	if r, _ := do(t, "GET", srv.URL+"/channels/mars", ""); r.StatusCode != 404 {
		t.Errorf("unknown channel page: %d", r.StatusCode)
	}
	resp, body = do(t, "GET", srv.URL+"/articles/evil", "")
	if resp.StatusCode != 200 || strings.Contains(body, "alert(2)") || strings.Contains(body, "onclick") || !strings.Contains(body, "正文") {
		t.Errorf("article page not sanitised: %d", resp.StatusCode)
	}

	if r, js := do(t, "GET", srv.URL+"/static/copy.js", ""); r.StatusCode != 200 || !strings.Contains(js, "clipboard") {
		t.Errorf("copy.js: %d", r.StatusCode)
	}
	for _, p := range []string{"/favicon.ico", "/logo.png"} {
		if r, b := do(t, "GET", srv.URL+p, ""); r.StatusCode != 200 || !strings.HasPrefix(b, "\x89PNG") {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
}

// TestArticlePageUsesTheFeedsPolicy: /articles/{id} sanitises with the feeds' policy, so the
// 零陵 story's Chinese captions survive (UGCPolicy dropped the whole alt) and links get no
// rel="nofollow", whether the store kept a result under the current policy or not.
func TestArticlePageUsesTheFeedsPolicy(t *testing.T) {
	_, srv, st := newServer(t)
	content := `<p><img src="images/a.jpg" alt="零陵古城，（摄影：黎俊）" title="零陵古城：东门（图）"></p>` +
		`<p><a href="https://www.rednet.cn/">红网</a></p><script>alert(1)</script>`
	for _, tt := range []struct {
		id        string
		sanitized syndicate.Sanitized
	}{
		{"lingling-fresh", sanitize.HTML(content)},
		{"lingling-stale", syndicate.Sanitized{Policy: "ugc-0", HTML: "<p>stale</p>"}},
		{"lingling-none", syndicate.Sanitized{}},
	} {
		t.Run(tt.id, func(t *testing.T) {
			a := syndicate.Article{ID: tt.id, Title: "零陵区", ContentHTML: content, Channels: []string{"lingling"},
				PublishedAt: time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC), Sanitized: tt.sanitized}
			a.Normalize()
			if _, err := st.UpsertArticle(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			resp, body := do(t, "GET", srv.URL+"/articles/"+tt.id, "")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			var img, link map[string]string
			z := html.NewTokenizer(strings.NewReader(body))
			for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
				if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
					continue
				}
				tok := z.Token()
				attr := map[string]string{}
				for _, at := range tok.Attr {
					attr[at.Key] = at.Val
				}
				switch {
				case tok.Data == "img" && strings.HasSuffix(attr["src"], "a.jpg"):
					img = attr
				case tok.Data == "a" && attr["href"] == "https://www.rednet.cn/":
					link = attr
				}
			}
			if img == nil || img["alt"] != "零陵古城，（摄影：黎俊）" || img["title"] != "零陵古城：东门（图）" {
				t.Errorf("image %v, want its Chinese alt and title", img)
			}
			if link == nil || link["rel"] != "" {
				t.Errorf("link %v, want it without rel", link)
			}
			if strings.Contains(body, "alert(1)") || strings.Contains(body, "stale") {
				t.Error("script or a stale sanitised result on the page")
			}
		})
	}
}

// countingStore observes a real store: it counts the reads the web server makes of articles
// and documents, and passes every call on.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (c *countingStore) NewestItems(ctx context.Context, channels []string, limit int) ([]syndicate.Article, error) {
	c.reads.Add(1)
	return c.Store.NewestItems(ctx, channels, limit)
}

func (c *countingStore) Article(ctx context.Context, id string) (syndicate.Article, error) {
	c.reads.Add(1)
	return c.Store.Article(ctx, id)
}

func (c *countingStore) Document(ctx context.Context, channel, format string) (syndicate.Document, error) {
	c.reads.Add(1)
	return c.Store.Document(ctx, channel, format)
}

func (c *countingStore) Documents(ctx context.Context, fn func(syndicate.Document) error) error {
	c.reads.Add(1)
	return c.Store.Documents(ctx, fn)
}

func (c *countingStore) ArchivePage(ctx context.Context, channels []string, page, size int) ([]syndicate.Article, error) {
	c.reads.Add(1)
	return c.Store.ArchivePage(ctx, channels, page, size)
}

func (c *countingStore) ArchiveCount(ctx context.Context, channels []string) (int, error) {
	c.reads.Add(1)
	return c.Store.ArchiveCount(ctx, channels)
}

func (c *countingStore) LastChange(ctx context.Context) (int64, error) {
	c.reads.Add(1)
	return c.Store.LastChange(ctx)
}

// replica is one web.Server over the shared store, as one Syndicate process runs it.
type replica struct {
	web   *web.Server
	url   string
	store *countingStore
}

// pagesFixture is two replicas over one SQLite store and a real builder. Replica 0 builds and
// puts its documents in its cache; replica 1 reloads them from the store, as app's
// reloadDocuments does when a build is announced.
type pagesFixture struct {
	st       *sqlite.DB
	builder  *build.Builder
	replicas [2]replica
	tree     *syndicate.Tree
}

func newPagesFixture(t *testing.T) *pagesFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tree, err := syndicate.NewTree([]syndicate.Channel{
		{Slug: "xianshiqu", Title: "县市区", Schedule: "*/10 * * * *", Limit: 10},
		{Slug: "lingling", Title: "零陵", Parent: "xianshiqu", Schedule: "*/10 * * * *", Limit: 10},
		{Slug: "qiyang", Title: "祁阳", Parent: "xianshiqu", Schedule: "*/10 * * * *", Limit: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	site := syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", Language: "zh-CN", Timezone: "Asia/Shanghai", TagDate: "2026"}
	f := &pagesFixture{st: st, tree: tree}
	for i := range f.replicas {
		cs := &countingStore{Store: st}
		s := web.New(web.Options{Store: cs, Tree: tree, Site: site, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err := s.LoadDocuments(ctx); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(srv.Close)
		f.replicas[i] = replica{web: s, url: srv.URL, store: cs}
	}
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	f.builder = &build.Builder{
		Store: st, Tree: tree, Site: site, SubjectPrefix: "syndicate",
		Now: func() time.Time { now = now.Add(time.Minute); return now },
		Committed: func(r build.Result) {
			if err := f.replicas[0].web.Cache().Put(r.Documents...); err != nil {
				t.Error(err)
			}
			for _, format := range syndicate.Formats {
				d, err := st.Document(ctx, r.Channel, format)
				if err == nil {
					err = f.replicas[1].web.Cache().Put(d)
				}
				if err != nil {
					t.Error(err)
				}
			}
		},
	}
	return f
}

// buildAll runs one build of every channel, children first as a tick may.
func (f *pagesFixture) buildAll(t *testing.T) {
	t.Helper()
	for _, slug := range []string{"lingling", "qiyang", "xianshiqu"} {
		if _, err := f.builder.Build(context.Background(), slug); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *pagesFixture) upsert(t *testing.T, id, title, channel string, published time.Time) {
	t.Helper()
	a := syndicate.Article{ID: id, Title: title, Summary: title + "摘要", ContentHTML: "<p>" + title + "</p>",
		Channels: []string{channel}, PublishedAt: published, UpdatedAt: published}
	a.Normalize()
	if _, err := f.st.UpsertArticle(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// reads is how many store reads the replicas made.
func (f *pagesFixture) reads() int64 {
	return f.replicas[0].store.reads.Load() + f.replicas[1].store.reads.Load()
}

// TestPagesFollowBuilds: the directory and channel pages are rendered once per build that
// changes them, from the store, the same on every replica; requests in between read nothing.
func TestPagesFollowBuilds(t *testing.T) {
	f := newPagesFixture(t)
	published := time.Date(2026, 11, 28, 16, 30, 0, 0, time.UTC) // 00:30 on the 29th in 永州
	f.upsert(t, "ling-1", "零陵古城夜游", "lingling", published)
	f.buildAll(t)

	// same fetches a page from both replicas and requires the same answer.
	same := func(path string) (string, *http.Response) {
		t.Helper()
		r0, b0 := do(t, "GET", f.replicas[0].url+path, "")
		r1, b1 := do(t, "GET", f.replicas[1].url+path, "")
		if r0.StatusCode != 200 || r1.StatusCode != 200 {
			t.Fatalf("GET %s: %d, %d", path, r0.StatusCode, r1.StatusCode)
		}
		if b0 != b1 {
			t.Fatalf("GET %s: the replicas serve different bytes over one store", path)
		}
		for _, h := range []string{"ETag", "Last-Modified", "Content-Length"} {
			if r0.Header.Get(h) != r1.Header.Get(h) || r0.Header.Get(h) == "" {
				t.Errorf("GET %s: %s %q and %q", path, h, r0.Header.Get(h), r1.Header.Get(h))
			}
		}
		return b0, r0
	}

	dir, dirResp := same("/")
	if !strings.Contains(dir, "零陵古城夜游") {
		t.Fatal("the built article is not on the directory")
	}
	// The site's zone, loaded once, dates the items.
	if !strings.Contains(html.UnescapeString(dir), `datetime="2026-11-29T00:30:00+08:00">11-29 00:30<`) {
		t.Error("items are not dated in the site's time zone")
	}
	ling, lingResp := same("/channels/lingling")
	if !strings.Contains(ling, "零陵古城夜游") {
		t.Fatal("the built article is not on its channel page")
	}

	// Between builds, no request reads the store: not the directory, not a channel page, not a
	// revalidation, not HEAD, whatever the encoding.
	before := f.reads()
	for range 10 {
		for _, r := range f.replicas {
			for _, path := range []string{"/", "/channels/lingling"} {
				do(t, "GET", r.url+path, "")
				do(t, "GET", r.url+path, "", "Accept-Encoding", "gzip")
				do(t, "HEAD", r.url+path, "")
				do(t, "GET", r.url+path, "", "If-None-Match", dirResp.Header.Get("ETag"))
			}
		}
	}
	if n := f.reads() - before; n != 0 {
		t.Errorf("%d store reads for 160 requests of cached pages", n)
	}

	// An article stored but not yet built is not on the pages: they show what the feeds show.
	f.upsert(t, "qi-1", "祁阳石刻新发现", "qiyang", published.Add(time.Hour))
	if _, body := do(t, "GET", f.replicas[0].url+"/", ""); strings.Contains(body, "祁阳石刻新发现") || body != dir {
		t.Error("the directory changed without a build")
	}

	// The build that files it changes the directory and the 祁阳 and 县市区 pages, not 零陵's.
	before = f.reads()
	f.buildAll(t)
	dir2, dirResp2 := same("/")
	if !strings.Contains(dir2, "祁阳石刻新发现") || !strings.Contains(dir2, "零陵古城夜游") {
		t.Error("the directory does not show the build")
	}
	if dirResp2.Header.Get("ETag") == dirResp.Header.Get("ETag") {
		t.Error("the directory's ETag did not change with its content")
	}
	if !strings.Contains(f.get(t, "/channels/qiyang"), "祁阳石刻新发现") || !strings.Contains(f.get(t, "/channels/xianshiqu"), "祁阳石刻新发现") {
		t.Error("the 祁阳 and 县市区 pages do not show the build")
	}
	afterRenders := f.reads()
	ling2, lingResp2 := same("/channels/lingling")
	if ling2 != ling || lingResp2.Header.Get("ETag") != lingResp.Header.Get("ETag") {
		t.Error("the 零陵 page changed, though its feed did not")
	}
	if f.reads() != afterRenders {
		t.Error("the 零陵 page was rendered again, though its feed did not change")
	}
	// Each page was rendered once per replica that served it: the directory on both, with one
	// read per channel (3), and the two channel pages, one read each, on replica 0.
	if n := afterRenders - before; n != 3+3+2 {
		t.Errorf("%d store reads after a build, want %d", n, 3+3+2)
	}
	// A client holding the old directory gets the new one.
	if r, _ := do(t, "GET", f.replicas[1].url+"/", "", "If-None-Match", dirResp.Header.Get("ETag")); r.StatusCode != 200 {
		t.Errorf("stale ETag: %d, want 200", r.StatusCode)
	}

	// An edit of the 零陵 article reaches its page after the next build.
	f.upsert(t, "ling-1", "零陵古城夜游(更新)", "lingling", published)
	f.buildAll(t)
	if ling3, _ := same("/channels/lingling"); !strings.Contains(ling3, "零陵古城夜游(更新)") {
		t.Error("the 零陵 page does not show the edited title")
	}
	if dir3, _ := same("/"); !strings.Contains(dir3, "零陵古城夜游(更新)") {
		t.Error("the directory does not show the edited title")
	}
}

func (f *pagesFixture) get(t *testing.T, path string) string {
	t.Helper()
	r, body := do(t, "GET", f.replicas[0].url+path, "")
	if r.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, r.StatusCode)
	}
	return body
}

// TestPageValidatorsAndEncoding: the pages are served like feeds: ETag and Last-Modified, 304,
// gzip compressed once per render with its own ETag, HEAD.
func TestPageValidatorsAndEncoding(t *testing.T) {
	f := newPagesFixture(t)
	f.upsert(t, "ling-1", "零陵古城夜游", "lingling", time.Date(2026, 11, 28, 16, 30, 0, 0, time.UTC))
	f.buildAll(t)
	base := f.replicas[0].url
	for _, path := range []string{"/", "/channels/lingling"} {
		plain, identity := do(t, "GET", base+path, "")
		gz, gzBody := do(t, "GET", base+path, "", "Accept-Encoding", "gzip")
		etag, gzETag, lm := plain.Header.Get("ETag"), gz.Header.Get("ETag"), plain.Header.Get("Last-Modified")
		if etag == "" || gzETag == "" || etag == gzETag || lm == "" {
			t.Fatalf("%s: ETag %q, gzip ETag %q, Last-Modified %q", path, etag, gzETag, lm)
		}
		if gz.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("%s: no gzip when accepted", path)
		}
		// The referrer policy travels in the page, not a header (pagecache.go).
		if !strings.Contains(identity, `<meta name="referrer" content="strict-origin-when-cross-origin">`) {
			t.Errorf("%s: no referrer policy", path)
		}
		zr, err := gzip.NewReader(strings.NewReader(gzBody))
		if err != nil {
			t.Fatal(err)
		}
		inflated, err := io.ReadAll(zr)
		if err != nil || string(inflated) != identity {
			t.Errorf("%s: the gzip body does not inflate to the identity body (%v)", path, err)
		}
		lmTime, _ := http.ParseTime(lm)
		tests := []struct {
			name       string
			method     string
			header     []string
			wantStatus int
			wantGzip   bool
			wantBody   string
		}{
			{"plain", "GET", nil, 200, false, identity},
			{"gzip", "GET", []string{"Accept-Encoding", "br, gzip;q=0.8"}, 200, true, gzBody},
			{"gzip refused", "GET", []string{"Accept-Encoding", "gzip;q=0"}, 200, false, identity},
			{"etag", "GET", []string{"If-None-Match", etag}, 304, false, ""},
			{"gzip etag", "GET", []string{"Accept-Encoding", "gzip", "If-None-Match", gzETag}, 304, false, ""},
			{"weak etag", "GET", []string{"If-None-Match", "W/" + etag}, 304, false, ""},
			{"etag mismatch wins over date", "GET", []string{"If-None-Match", `"stale"`, "If-Modified-Since", lm}, 200, false, identity},
			{"modified since equal", "GET", []string{"If-Modified-Since", lm}, 304, false, ""},
			{"modified since earlier", "GET", []string{"If-Modified-Since", lmTime.Add(-time.Second).Format(http.TimeFormat)}, 200, false, identity},
			{"modified since in the future", "GET", []string{"If-Modified-Since", time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat)}, 200, false, identity},
			{"head", "HEAD", nil, 200, false, ""},
			{"head gzip", "HEAD", []string{"Accept-Encoding", "gzip"}, 200, true, ""},
		}
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				resp, body := do(t, tt.method, base+path, "", tt.header...)
				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
				}
				if isGzip := resp.Header.Get("Content-Encoding") == "gzip"; isGzip != tt.wantGzip {
					t.Errorf("gzip = %v, want %v", isGzip, tt.wantGzip)
				}
				if body != tt.wantBody {
					t.Errorf("body of %d bytes, want %d", len(body), len(tt.wantBody))
				}
				if resp.Header.Get("Last-Modified") != lm || resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("Cache-Control") == "" {
					t.Errorf("headers: %v", resp.Header)
				}
				if resp.StatusCode == 200 {
					if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
						t.Errorf("headers: %v", resp.Header)
					}
					want := len(identity)
					if tt.wantGzip {
						want = len(gzBody)
					}
					if resp.Header.Get("Content-Length") != strconv.Itoa(want) {
						t.Errorf("Content-Length %s, want %d", resp.Header.Get("Content-Length"), want)
					}
				}
			})
		}
	}
}

// The directory skips making a request id, as feeds do, but keeps a proxy's.
func TestDirectoryRequestID(t *testing.T) {
	f := newPagesFixture(t)
	if r, _ := do(t, "GET", f.replicas[0].url+"/", ""); r.StatusCode != 200 || r.Header.Get(web.RequestIDHeader) != "" {
		t.Errorf("GET /: %d, request id %q made", r.StatusCode, r.Header.Get(web.RequestIDHeader))
	}
	if r, _ := do(t, "GET", f.replicas[0].url+"/", "", web.RequestIDHeader, "proxy-7"); r.Header.Get(web.RequestIDHeader) != "proxy-7" {
		t.Errorf("proxy's id not kept: %q", r.Header.Get(web.RequestIDHeader))
	}
}

// A page's Last-Modified follows the builds that change it, never an article's date: an article
// dated up to a day ahead would put it in the future, and a client revalidating by date would get
// 304 for an edit made before that date.
func TestPageLastModifiedIgnoresArticleDates(t *testing.T) {
	f := newPagesFixture(t)
	ahead := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC) // 22h after the builder's clock
	f.upsert(t, "ling-soon", "明日预告", "lingling", ahead)
	f.buildAll(t)
	feed, _ := do(t, "GET", f.replicas[0].url+"/feeds/lingling.rss", "")
	for _, path := range []string{"/", "/channels/lingling"} {
		resp, _ := do(t, "GET", f.replicas[0].url+path, "")
		lm, err := http.ParseTime(resp.Header.Get("Last-Modified"))
		if err != nil {
			t.Fatalf("%s: Last-Modified %q: %v", path, resp.Header.Get("Last-Modified"), err)
		}
		if !lm.Before(ahead) {
			t.Errorf("%s: Last-Modified %s is the article's future date, not the build's", path, lm)
		}
		if path != "/" && resp.Header.Get("Last-Modified") != feed.Header.Get("Last-Modified") {
			t.Errorf("%s: Last-Modified %q, want the feed's %q", path, resp.Header.Get("Last-Modified"), feed.Header.Get("Last-Modified"))
		}
	}
}
