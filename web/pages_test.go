package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	syndicate "github.com/yongzhou-news/syndicate"
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
