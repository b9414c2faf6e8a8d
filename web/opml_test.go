package web_test

import (
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// opmlOutline is an outline as a reader importing a subscription list sees it.
type opmlOutline struct {
	Text     string        `xml:"text,attr"`
	Title    string        `xml:"title,attr"`
	XMLURL   string        `xml:"xmlUrl,attr"`
	Children []opmlOutline `xml:"outline"`
}

// readSubscriptions follows the OPML 2.0 subscription-list convention as readers do: an
// outline with xmlUrl is one feed and what it holds is ignored; one without is a folder.
func readSubscriptions(list []opmlOutline, folder string, feeds map[string][]string, t *testing.T) {
	for _, o := range list {
		if o.Text == "" {
			t.Errorf("outline without text in %q: %+v", folder, o)
		}
		if o.XMLURL != "" {
			if len(o.Children) > 0 {
				t.Errorf("feed outline %q holds %d outlines a reader ignores", o.Text, len(o.Children))
			}
			feeds[o.XMLURL] = append(feeds[o.XMLURL], folder)
			continue
		}
		if len(o.Children) == 0 {
			t.Errorf("empty folder %q", o.Text)
		}
		readSubscriptions(o.Children, folder+"/"+o.Text, feeds, t)
	}
}

// TestOPMLSubscriptionList imports /opml over the real channel tree (config/channels.yaml, the
// fixture tree of 34 channels) and finds every channel's feed exactly once, the county feeds in
// the 县市区 folder next to 县市区's own feed.
func TestOPMLSubscriptionList(t *testing.T) {
	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := cfg.Tree()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	site := syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", Language: "zh-CN", TagDate: "2026"}
	srv := httptest.NewServer(web.New(web.Options{Store: st, Tree: tree, Site: site, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	defer srv.Close()

	resp, body := do(t, "GET", srv.URL+"/opml", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/x-opml") {
		t.Fatalf("GET /opml: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		Version string        `xml:"version,attr"`
		Title   string        `xml:"head>title"`
		Body    []opmlOutline `xml:"body>outline"`
	}
	if err := xml.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("OPML does not parse: %v", err)
	}
	if doc.Version != "2.0" || doc.Title != "红网永州站" {
		t.Errorf("version %q title %q", doc.Version, doc.Title)
	}
	feeds := map[string][]string{}
	readSubscriptions(doc.Body, "", feeds, t)
	slugs := tree.Slugs()
	if len(slugs) != 34 {
		t.Fatalf("fixture tree has %d channels, want 34", len(slugs))
	}
	if len(feeds) != len(slugs) {
		t.Errorf("a reader imports %d feeds, want %d", len(feeds), len(slugs))
	}
	for _, slug := range slugs {
		url := site.FeedURL(slug, syndicate.FormatRSS)
		if n := len(feeds[url]); n != 1 {
			t.Errorf("%s: found %d times, want once", url, n)
		}
	}
	for _, slug := range append(tree.Children("xianshiqu"), "xianshiqu") {
		if got := feeds[site.FeedURL(slug, syndicate.FormatRSS)]; len(got) != 1 || got[0] != "/县市区" {
			t.Errorf("%s is in folders %q, want /县市区", slug, got)
		}
	}
	if got := feeds[site.FeedURL("zhongyao-xinwen", syndicate.FormatRSS)]; len(got) != 1 || got[0] != "" {
		t.Errorf("重要新闻 is in folders %q, want the top level", got)
	}
}

// The subscription list is the same bytes on every request, so readers that refresh it
// revalidate (ETag, 304) and fetch it gzipped, like the pages.
func TestOPMLValidatorsAndGzip(t *testing.T) {
	_, srv, _ := newServer(t)
	first, body := do(t, "GET", srv.URL+"/opml", "")
	etag := first.Header.Get("ETag")
	if first.StatusCode != 200 || etag == "" || first.Header.Get("Content-Length") == "" || first.Header.Get("Cache-Control") == "" {
		t.Fatalf("GET /opml: %d, ETag %q, Content-Length %q, Cache-Control %q", first.StatusCode, etag, first.Header.Get("Content-Length"), first.Header.Get("Cache-Control"))
	}
	if again, body2 := do(t, "GET", srv.URL+"/opml", ""); again.Header.Get("ETag") != etag || body2 != body {
		t.Errorf("a second GET /opml has ETag %q and %d bytes, want %q and the same %d bytes", again.Header.Get("ETag"), len(body2), etag, len(body))
	}
	if resp, b := do(t, "GET", srv.URL+"/opml", "", "If-None-Match", etag); resp.StatusCode != 304 || b != "" {
		t.Errorf("revalidated: %d with %d bytes, want 304 and none", resp.StatusCode, len(b))
	}
	if resp, _ := do(t, "GET", srv.URL+"/opml", "", "Accept-Encoding", "gzip"); resp.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/x-opml") {
		t.Errorf("with gzip accepted: Content-Encoding %q, Content-Type %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
	}
}
