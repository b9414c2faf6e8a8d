package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// Every autodiscovery link on the directory and on a channel page leads to a feed that parses.
func TestAutodiscoveryLinksResolve(t *testing.T) {
	a, base := startService(t, t.TempDir(), "", "SYNDICATE_DEMO=true")
	testwait.For(t, "the site-wide feed", func() bool {
		_, err := a.Store.Document(context.Background(), "all", "json")
		return err == nil
	})
	href := regexp.MustCompile(`<link rel="alternate" type="[^"]+" title="[^"]*" href="([^"]+)">`)
	for _, page := range []string{"/", "/channels/lingling"} {
		resp, err := http.Get(base + page)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		links := href.FindAllStringSubmatch(string(body), -1)
		if len(links) != 3 {
			t.Fatalf("%s: %d autodiscovery links, want 3", page, len(links))
		}
		for _, l := range links {
			// Links carry the public base URL; fetch the same path from the test server.
			url := base + strings.TrimPrefix(l[1], a.Site.BaseURL)
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			f, err := gofeed.NewParser().Parse(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || err != nil || len(f.Items) == 0 {
				t.Errorf("%s → %s: %d, %v", page, url, resp.StatusCode, err)
			}
		}
	}
}

// A feed reader gets the stored document's bytes and ETag whatever it sends as Accept, while a
// browser navigating to the same URL gets the HTML view (web/negotiate.go).
func TestFeedReadersAndBrowsersOnOneURL(t *testing.T) {
	a, base := startService(t, t.TempDir(), "", "SYNDICATE_DEMO=true")
	// Served, not only stored: the build saves its documents, then hands them to the web cache.
	testwait.For(t, "the lingling feeds served", func() bool {
		for _, f := range []string{"rss", "atom", "json"} {
			resp, err := http.Get(base + "/feeds/lingling." + f)
			if err != nil {
				return false
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return false
			}
		}
		return true
	})
	get := func(url string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}
	for _, f := range []string{"rss", "atom", "json"} {
		doc, err := a.Store.Document(context.Background(), "lingling", f)
		if err != nil {
			t.Fatal(err)
		}
		url := base + "/feeds/lingling." + f
		for _, accept := range []string{"", "application/rss+xml, application/xml, */*", "application/atom+xml,text/html;q=0.1", "*/*"} {
			var h []string
			if accept != "" {
				h = []string{"Accept", accept}
			}
			resp, body := get(url, h...)
			if resp.StatusCode != 200 || !bytes.Equal(body, doc.Body) || resp.Header.Get("ETag") != doc.ETag {
				t.Errorf("%s with Accept %q: %d, ETag %q (stored %q), same bytes %v", f, accept, resp.StatusCode, resp.Header.Get("ETag"), doc.ETag, bytes.Equal(body, doc.Body))
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Accept") {
				t.Errorf("%s: Vary %q does not name Accept", f, resp.Header.Get("Vary"))
			}
		}
		resp, body := get(url, "Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "Sec-Fetch-Mode", "navigate", "Sec-Fetch-Dest", "document")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(string(body), "零陵抗疫工作纪实") {
			t.Errorf("%s in a browser: %d %s", f, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}
