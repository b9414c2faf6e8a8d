package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// pageTitle returns the <title> and <h1> texts as a browser shows them.
func titleAndHeading(t *testing.T, page string) (title, h1 string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "title" || n.Data == "h1") && n.FirstChild != nil {
			var b strings.Builder
			var text func(n *html.Node)
			text = func(n *html.Node) {
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.TextNode {
						b.WriteString(c.Data)
					}
					text(c)
				}
			}
			text(n)
			if n.Data == "title" {
				title = b.String()
			} else if h1 == "" {
				h1 = b.String()
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return title, h1
}

// TestPageTitlesEscapedOnce: titles arrive with entities; the pages show what they stand for,
// escaped once by html/template, never "&lt;" on screen (issue #15).
func TestPageTitlesEscapedOnce(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵 &amp; 东安 &lt;县&gt;", Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	site := syndicate.Site{Title: "红网&quot;永州&quot;站", BaseURL: "http://localhost:8080", TagDate: "2026"}
	srv := httptest.NewServer(web.New(web.Options{Store: st, Tree: tree, Site: site, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	defer srv.Close()
	a := syndicate.Article{ID: "t1", Title: "汇聚&ldquo;红&rdquo;力量 &lt;纪实&gt; AT&amp;T &amp;lt;i&amp;gt; &lt;script&gt;x&lt;/script&gt;",
		Summary: "摘要 &amp; 说明", Authors: []string{"彭沛&nbsp;", "&lt;b&gt;黎俊&lt;/b&gt;"}, ContentHTML: "<p>正文</p>",
		Channels: []string{"lingling"}, PublishedAt: time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC)}
	a.Normalize()
	if _, err := st.UpsertArticle(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	const story = "汇聚“红”力量 <纪实> AT&T &lt;i&gt; x"
	tests := []struct{ path, title, h1, text string }{
		{"/articles/t1", story + ` - 红网"永州"站`, story, "彭沛 · 黎俊"},
		{"/channels/lingling", `零陵 & 东安 <县> - 红网"永州"站`, "零陵 & 东安 <县>", story},
		{"/", `红网"永州"站`, `红网"永州"站`, story},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := do(t, "GET", srv.URL+tt.path, "")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			title, h1 := titleAndHeading(t, body)
			if title != tt.title || h1 != tt.h1 {
				t.Errorf("title %q h1 %q, want %q %q", title, h1, tt.title, tt.h1)
			}
			if text, _ := pageText(t, body); !strings.Contains(text, tt.text) {
				t.Errorf("page text lacks %q:\n%s", tt.text, text)
			}
			for _, bad := range []string{"&amp;amp;", "&amp;quot;", "&amp;ldquo;", "<script>x", "<b>"} {
				if strings.Contains(body, bad) {
					t.Errorf("page source holds %q", bad)
				}
			}
		})
	}
}

// Text an article brings (title, authors, source) sits in <bdi> on every page, so a bidi
// override in it (U+202E) reverses only itself, not the date, the separators or the next item.
func TestArticleTextIsolatedOnPages(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵", Limit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Options{Store: st, Tree: tree, Site: syndicate.Site{Title: "红网", BaseURL: "http://localhost:8080", TagDate: "2026"},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	defer srv.Close()
	a := syndicate.Article{ID: "t1", Title: "\u202eevil", Authors: []string{"\u202eadmin"}, Source: "\u202esource", ContentHTML: "<p>正文</p>",
		Channels: []string{"lingling"}, PublishedAt: time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC)}
	a.Normalize()
	if _, err := st.UpsertArticle(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path string
		want int // text nodes holding U+202E
	}{{"/articles/t1", 3}, {"/channels/lingling", 1}, {"/", 1}} {
		_, body := do(t, "GET", srv.URL+tc.path, "")
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.TextNode && strings.ContainsRune(n.Data, '\u202e') && n.Parent.Data != "title" {
				found++
				if n.Parent.Data != "bdi" {
					t.Errorf("%s: %q sits in <%s>, not <bdi>", tc.path, n.Data, n.Parent.Data)
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		if found != tc.want {
			t.Errorf("%s: %d texts with the override in the body, want %d", tc.path, found, tc.want)
		}
	}
}
