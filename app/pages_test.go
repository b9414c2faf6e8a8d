package app_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// Every autodiscovery link on the directory and on a channel page leads to a feed that parses.
func TestAutodiscoveryLinksResolve(t *testing.T) {
	a, base := startService(t, t.TempDir(), "", "SYNDICATE_DEMO=true")
	waitFor(t, "the site-wide feed", func() bool {
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
