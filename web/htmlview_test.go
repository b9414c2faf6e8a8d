package web_test

import (
	"compress/gzip"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/web"
)

const (
	chromeAccept  = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
	firefoxAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
)

// putRenderedFeeds renders a lingling feed in every format, with a stylesheet instruction as
// builds with http.stylesheet make, and puts it in the server's cache.
func putRenderedFeeds(t *testing.T, s *web.Server, items ...syndicate.Article) map[string]syndicate.Document {
	t.Helper()
	tree, _ := syndicate.NewTree([]syndicate.Channel{{Slug: "xianshiqu", Title: "县市区"}, {Slug: "lingling", Title: "零陵", Parent: "xianshiqu"}})
	ch, _ := tree.Channel("lingling")
	site := syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", Language: "zh-CN", Timezone: "Asia/Shanghai", TagDate: "2026"}
	out, err := feed.RenderAll(feed.Input{Site: site, Tree: tree, Channel: ch, Items: items,
		Stylesheet: map[string]string{syndicate.FormatRSS: site.BaseURL + "/xsl/rss.xsl", syndicate.FormatAtom: site.BaseURL + "/xsl/atom.xsl"}})
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]syndicate.Document{}
	for f, body := range out {
		d := syndicate.Document{Channel: "lingling", Format: f, Body: body, ETag: syndicate.ETagOf(body), Modified: time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC)}
		if err := s.Cache().Put(d); err != nil {
			t.Fatal(err)
		}
		docs[f] = d
	}
	return docs
}

func hostileArticles() []syndicate.Article {
	return []syndicate.Article{{
		ID: "kangyi", Title: `汇聚“红”力量 &lt;script&gt;alert(1)&lt;/script&gt; A &amp;lt;b&amp;gt; 1<2`,
		Summary: `关键时刻冲得上 <img src=x onerror=alert(2)> &amp;lt;i&amp;gt;`, Authors: []string{"彭沛", "黎俊"},
		ContentHTML: "<p>正文</p>", Channels: []string{"lingling"},
		URL: "http://localhost:8080/news/kangyi.html", PublishedAt: time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC),
	}}
}

// TestFeedReadersGetTheFeed: whatever a feed reader sends, it gets the document's bytes, type
// and ETag, exactly as before the HTML view existed, and Vary names Accept.
func TestFeedReadersGetTheFeed(t *testing.T) {
	s, srv, _ := newServer(t)
	docs := putRenderedFeeds(t, s, hostileArticles()...)
	readers := []struct{ name, accept, secFetchMode string }{
		{"no Accept", "", ""},
		{"any", "*/*", ""},
		{"feed types then any", "application/rss+xml, application/atom+xml, application/xml, */*", ""},
		{"feed reader naming html low", "application/atom+xml,application/rss+xml;q=0.9,application/xml;q=0.8,text/html;q=0.1", ""},
		{"html and xml tied", "text/html, application/xml", ""},
		{"JSON Feed reader", "application/feed+json, application/json;q=0.9", ""},
		{"extension's fetch()", "*/*", "cors"},
		// Some readers copy a browser's Accept to get past bot filters; without Fetch Metadata
		// they are no navigation (an old browser gets the feed too, with its XSL stylesheet).
		{"reader with a browser's Accept", firefoxAccept, ""},
		{"reader with Chrome's Accept", chromeAccept, ""},
		// q-values are read as RFC 9110 §12.4.2 says: the name is case-insensitive and white
		// space may surround "=". Read as 1, these put html first and gave a navigation the page.
		{"navigation ranking html lower, Q uppercase", "application/rss+xml, application/atom+xml, application/feed+json, text/html;Q=0.5", "navigate"},
		{"navigation ranking html lower, spaces around =", "application/rss+xml, application/atom+xml, application/feed+json, text/html; q = 0.5", "navigate"},
	}
	for _, f := range syndicate.Formats {
		d := docs[f]
		for _, rd := range readers {
			t.Run(f+"/"+rd.name, func(t *testing.T) {
				var h []string
				if rd.accept != "" {
					h = append(h, "Accept", rd.accept)
				}
				if rd.secFetchMode != "" {
					h = append(h, "Sec-Fetch-Mode", rd.secFetchMode, "Sec-Fetch-Dest", "empty")
				}
				resp, body := do(t, "GET", srv.URL+"/feeds/lingling."+f, "", h...)
				if resp.StatusCode != 200 || body != string(d.Body) {
					t.Fatalf("status %d; body is the document: %v", resp.StatusCode, body == string(d.Body))
				}
				if resp.Header.Get("ETag") != d.ETag || resp.Header.Get("Content-Type") != syndicate.ContentTypes[f] {
					t.Errorf("ETag %q Content-Type %q, want %q %q", resp.Header.Get("ETag"), resp.Header.Get("Content-Type"), d.ETag, syndicate.ContentTypes[f])
				}
				if resp.Header.Get("Vary") != "Accept-Encoding, Accept, Sec-Fetch-Dest, Sec-Fetch-Mode" {
					t.Errorf("Vary %q", resp.Header.Get("Vary"))
				}
				resp, _ = do(t, "GET", srv.URL+"/feeds/lingling."+f, "", append(h, "If-None-Match", d.ETag)...)
				if resp.StatusCode != 304 {
					t.Errorf("revalidation: %d, want 304", resp.StatusCode)
				}
			})
		}
	}
}

// TestBrowsersGetTheHTMLView: a navigation gets a readable page of the feed's items, with the
// text escaped once, links to every format, and its own validator.
func TestBrowsersGetTheHTMLView(t *testing.T) {
	s, srv, _ := newServer(t)
	docs := putRenderedFeeds(t, s, hostileArticles()...)
	browsers := []struct {
		name   string
		header []string
	}{
		{"Chrome navigation", []string{"Accept", chromeAccept, "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}},
		{"Firefox navigation", []string{"Accept", firefoxAccept, "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}},
		{"navigation with plain html", []string{"Accept", "text/html", "Sec-Fetch-Dest", "document"}},
		{"navigation, q-values spelled loosely", []string{"Accept", "text/html; Q = 0.9, application/xml ;q= 0.8", "Sec-Fetch-Dest", "document"}},
	}
	for _, f := range syndicate.Formats {
		for _, b := range browsers {
			t.Run(f+"/"+b.name, func(t *testing.T) {
				resp, body := do(t, "GET", srv.URL+"/feeds/lingling."+f, "", b.header...)
				if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
					t.Fatalf("status %d Content-Type %q, want an HTML page", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				if resp.Header.Get("Vary") != "Accept-Encoding, Accept, Sec-Fetch-Dest, Sec-Fetch-Mode" || resp.Header.Get("X-Content-Type-Options") != "nosniff" ||
					!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
					t.Errorf("headers %v", resp.Header)
				}
				etag := resp.Header.Get("ETag")
				if etag == "" || etag == docs[f].ETag {
					t.Errorf("view ETag %q must differ from the feed's %q", etag, docs[f].ETag)
				}
				text, links := pageText(t, body)
				for _, want := range []string{
					// Entities decoded once, then tags stripped (their text stays, as text).
					"汇聚“红”力量 alert(1) A &lt;b&gt; 1<2",
					"关键时刻冲得上 &lt;i&gt;", "2022-11-16 16:00", "零陵 - 红网永州站",
					"http://localhost:8080/feeds/lingling." + f,
				} {
					if !strings.Contains(text, want) {
						t.Errorf("page text lacks %q:\n%s", want, text)
					}
				}
				// No live markup from the feed, and text escaped once: "&amp;amp;" would show "&amp;".
				for _, bad := range []string{"<script>", "<img", "onerror", "<b>", "<i>", "&amp;amp;", "&amp;lt;script"} {
					if strings.Contains(body, bad) {
						t.Errorf("page source holds %q", bad)
					}
				}
				for _, want := range []string{"http://localhost:8080/news/kangyi.html", "lingling.rss", "lingling.atom", "lingling.json"} {
					if !links[want] {
						t.Errorf("no link to %s in %v", want, links)
					}
				}
				resp, _ = do(t, "GET", srv.URL+"/feeds/lingling."+f, "", append(b.header, "If-None-Match", etag)...)
				if resp.StatusCode != 304 {
					t.Errorf("revalidating the view: %d, want 304", resp.StatusCode)
				}
			})
		}
	}
}

// pageText parses an HTML page as a browser does and returns its visible text (without the
// head) and the targets of its links.
func pageText(t *testing.T, page string) (string, map[string]bool) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	links := map[string]bool{}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "head" || n.Data == "script" || n.Data == "style") {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		if n.Type == html.ElementNode && n.Data == "a" {
			for _, a := range n.Attr {
				if a.Key == "href" {
					links[a.Val] = true
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return b.String(), links
}

// TestHTMLViewGzip: the HTML view is served as the site's pages are, over a real connection: gzip
// when accepted, with its own ETag per representation, Last-Modified, and 304 for either tag.
func TestHTMLViewGzip(t *testing.T) {
	s, srv, _ := newServer(t)
	docs := putRenderedFeeds(t, s, hostileArticles()...)
	nav := []string{"Accept", chromeAccept, "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document"}
	for _, f := range syndicate.Formats {
		t.Run(f, func(t *testing.T) {
			url := srv.URL + "/feeds/lingling." + f
			plain, plainBody := do(t, "GET", url, "", nav...)
			resp, body := do(t, "GET", url, "", append(nav, "Accept-Encoding", "gzip")...)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("status %d, Content-Encoding %q, Content-Type %q; want a gzipped HTML page",
					resp.StatusCode, resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Type"))
			}
			zr, err := gzip.NewReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			inflated, err := io.ReadAll(zr)
			if err != nil || string(inflated) != plainBody {
				t.Fatalf("inflated view differs from the identity one (%v)", err)
			}
			if resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) || len(body) >= len(plainBody) {
				t.Errorf("Content-Length %q for %d gzip bytes of %d", resp.Header.Get("Content-Length"), len(body), len(plainBody))
			}
			gzTag, plainTag := resp.Header.Get("ETag"), plain.Header.Get("ETag")
			if gzTag == "" || gzTag == plainTag || gzTag == docs[f].ETag {
				t.Errorf("gzip view ETag %q, identity %q, feed %q: each representation needs its own", gzTag, plainTag, docs[f].ETag)
			}
			if resp.Header.Get("Vary") != "Accept-Encoding, Accept, Sec-Fetch-Dest, Sec-Fetch-Mode" || resp.Header.Get("Last-Modified") != "Wed, 16 Nov 2022 08:00:00 GMT" {
				t.Errorf("Vary %q, Last-Modified %q", resp.Header.Get("Vary"), resp.Header.Get("Last-Modified"))
			}
			for _, tag := range []string{gzTag, plainTag} {
				resp, body := do(t, "GET", url, "", append(nav, "Accept-Encoding", "gzip", "If-None-Match", tag)...)
				if resp.StatusCode != 304 || body != "" {
					t.Errorf("If-None-Match %s: %d with %d bytes, want 304", tag, resp.StatusCode, len(body))
				}
			}
		})
	}
}
