package app_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
)

// TestReaderSeesEditsAndDeletions checks, through the API, a build and HTTP, what README "What a
// reader sees" promises of updates and deletions in every format, read with gofeed: an edited
// article keeps its id and published date and shows the updated_at it was sent with; a deleted
// article stays in the served feed until the next build and is gone after it; dates are written
// in the site's time zone (Asia/Shanghai, +08:00).
func TestReaderSeesEditsAndDeletions(t *testing.T) {
	a, srv := newApp(t)
	const (
		kept    = `{"id":"contract-kept","title":"零陵古城夜景","summary":"初稿","channels":["lingling"],"published_at":"2026-11-16T08:00:00+08:00"}`
		edited  = `{"id":"contract-kept","title":"零陵古城夜景（更正）","summary":"更正稿","channels":["lingling"],"published_at":"2026-11-16T08:00:00+08:00","updated_at":"2026-11-17T09:30:00+08:00"}`
		removed = `{"id":"contract-removed","title":"将被删除的稿件","channels":["lingling"],"published_at":"2026-11-15T08:00:00+08:00"}`
	)
	for _, body := range []string{kept, removed} {
		if code, out := post(t, srv, token, []byte(body)); code != http.StatusCreated {
			t.Fatalf("POST: %d %s", code, out)
		}
	}
	build(t, a, "lingling")

	keptID, removedID := a.Site.ItemID("contract-kept"), a.Site.ItemID("contract-removed")
	published := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	for _, f := range syndicate.Formats {
		raw, items := readFeed(t, srv.URL+"/feeds/lingling."+f)
		it := items[keptID]
		if it == nil || items[removedID] == nil {
			t.Fatalf("%s: items %v, want both articles", f, keys(items))
		}
		checkDates(t, f+" before the edit", it, published, published)
		// The site's zone, not UTC: RSS writes RFC 1123 with a numeric offset, the others RFC 3339.
		zone := "+08:00"
		if f == syndicate.FormatRSS {
			zone = "+0800"
		}
		if !bytes.Contains(raw, []byte("08:00:00 "+zone)) && !bytes.Contains(raw, []byte("T08:00:00"+zone)) {
			t.Errorf("%s: no date written in +08:00", f)
		}
	}

	if code, out := post(t, srv, token, []byte(edited)); code != http.StatusOK || !strings.Contains(out, `"updated": 1`) {
		t.Fatalf("POST edit: %d %s", code, out)
	}
	deleteArticle(t, srv.URL, "contract-removed")
	// Feeds are served from the last build's documents: the deletion shows at the next build.
	for _, f := range syndicate.Formats {
		if _, items := readFeed(t, srv.URL+"/feeds/lingling."+f); items[removedID] == nil {
			t.Errorf("%s: the deleted article left the feed before the next build", f)
		}
	}
	build(t, a, "lingling")

	updated := time.Date(2026, 11, 17, 1, 30, 0, 0, time.UTC)
	for _, f := range syndicate.Formats {
		_, items := readFeed(t, srv.URL+"/feeds/lingling."+f)
		if items[removedID] != nil {
			t.Errorf("%s: the deleted article is still in the feed after a build", f)
		}
		it := items[keptID]
		if it == nil {
			t.Fatalf("%s: the edited article lost its id; items %v", f, keys(items))
		}
		if it.Title != "零陵古城夜景（更正）" {
			t.Errorf("%s: title %q, want the edited one", f, it.Title)
		}
		checkDates(t, f+" after the edit", it, published, updated)
	}
}

// readFeed fetches a feed and returns its bytes and its items by id, as gofeed reads them.
func readFeed(t *testing.T, url string) ([]byte, map[string]*gofeed.Item) {
	t.Helper()
	resp := get(t, url)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("gofeed %s: %v", url, err)
	}
	items := map[string]*gofeed.Item{}
	for _, it := range f.Items {
		items[it.GUID] = it
	}
	return raw, items
}

func checkDates(t *testing.T, what string, it *gofeed.Item, published, updated time.Time) {
	t.Helper()
	if it.PublishedParsed == nil || !it.PublishedParsed.Equal(published) {
		t.Errorf("%s: published %v, want %v", what, it.PublishedParsed, published)
	}
	if it.UpdatedParsed == nil || !it.UpdatedParsed.Equal(updated) {
		t.Errorf("%s: updated %v, want %v", what, it.UpdatedParsed, updated)
	}
}

func deleteArticle(t *testing.T, base, id string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, base+"/api/articles/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d", id, resp.StatusCode)
	}
}
