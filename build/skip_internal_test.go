package build

import (
	"slices"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// The last line of defence: an item the date check let through but the encoders refuse
// (Time.MarshalJSON fails on a year-10000 date in the JSON Feed) is found among the others by
// rendering halves, and the feed is rendered without it.
func TestRenderTolerantFindsTheItemTheEncodersRefuse(t *testing.T) {
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵"}})
	if err != nil {
		t.Fatal(err)
	}
	var items []syndicate.Article
	for i, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		items = append(items, storetest.Article(id, i, "lingling"))
	}
	bad := []string{"c", "f"}
	for i := range items {
		if slices.Contains(bad, items[i].ID) {
			items[i].PublishedAt = time.Date(9999, 12, 31, 20, 0, 0, 0, time.UTC)
			items[i].UpdatedAt = items[i].PublishedAt
		}
	}
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	in := feed.Input{
		Site:    syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", Timezone: "Asia/Shanghai", TagDate: "2026"},
		Tree:    tree,
		Channel: syndicate.Channel{Slug: "lingling", Title: "零陵"},
		Items:   items,
		Updated: now,
	}
	if _, err := render(in, now); err == nil {
		t.Fatal("the whole feed renders; the test needs an item the encoders refuse")
	}
	docs, kept, skips, err := renderTolerant(in, now)
	if err != nil {
		t.Fatalf("renderTolerant: %v", err)
	}
	var skipped, rendered []string
	for _, s := range skips {
		skipped = append(skipped, s.ArticleID)
		if s.Err == nil || !strings.Contains(s.Err.Error(), "year outside of range") {
			t.Errorf("skip of %s gives no reason from the encoder: %v", s.ArticleID, s.Err)
		}
	}
	for _, a := range kept {
		rendered = append(rendered, a.ID)
	}
	if !slices.Equal(skipped, bad) || !slices.Equal(rendered, []string{"a", "b", "d", "e", "g"}) {
		t.Errorf("skipped %v and rendered %v, want %v left out", skipped, rendered, bad)
	}
	if len(docs) != len(syndicate.Formats) {
		t.Errorf("%d documents, want %d", len(docs), len(syndicate.Formats))
	}

	// A feed that cannot be rendered even empty is not blamed on its items.
	in.Site.BaseURL = "not a url"
	if _, _, skips, err := renderTolerant(in, now); err == nil || len(skips) != 0 {
		t.Errorf("bad site URL: err %v, skips %+v; want the render error and no skips", err, skips)
	}
}
