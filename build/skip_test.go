package build_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// An article whose date no encoder can write in the site's zone, stored without validation as
// an older version or a hand-edited row would, is left out of its channel's feed, its parent's
// and the site-wide one; every other item is still served, and the skip is reported once.
func TestBuildLeavesOutAnItemItCannotRender(t *testing.T) {
	tests := []struct {
		name string
		zone string
		at   time.Time
	}{
		{"year 10000 in Asia/Shanghai", "Asia/Shanghai", time.Date(9999, 12, 31, 20, 0, 0, 0, time.UTC)},
		{"year 0 in America/New_York", "America/New_York", time.Date(1, 1, 1, 3, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, st := newBuilder(t)
			b.Site.Timezone = tc.zone
			b.SiteSchedule, b.SiteLimit = "@every 5m", 10
			var reported []build.Skip
			b.Skipped = func(s build.Skip) { reported = append(reported, s) }
			upsert(t, st, storetest.Article("good1", 1, "lingling"))
			upsert(t, st, storetest.Article("good2", 2, "lingling"))
			bad := storetest.Article("bad", 3, "lingling")
			bad.PublishedAt, bad.UpdatedAt = tc.at, tc.at
			upsert(t, st, bad)

			for _, slug := range []string{"lingling", "xianshiqu", syndicate.SiteFeed} {
				r := mustBuild(t, b, slug)
				if !r.Rendered || r.Items != 2 {
					t.Errorf("%s: build = %+v, want 2 items rendered", slug, r)
				}
				if len(r.Skipped) != 1 || r.Skipped[0].ArticleID != "bad" || !errors.Is(r.Skipped[0].Err, build.ErrDate) {
					t.Errorf("%s: skipped %+v, want the article bad for its date", slug, r.Skipped)
				}
				for _, f := range syndicate.Formats {
					doc, err := st.Document(context.Background(), slug, f)
					if err != nil {
						t.Fatal(err)
					}
					parsed, err := gofeed.NewParser().Parse(bytes.NewReader(doc.Body))
					if err != nil {
						t.Fatalf("%s.%s does not parse: %v", slug, f, err)
					}
					var ids []string
					for _, it := range parsed.Items {
						ids = append(ids, it.GUID)
					}
					sort.Strings(ids)
					want := []string{b.Site.ItemID("good1"), b.Site.ItemID("good2")}
					if !slices.Equal(ids, want) {
						t.Errorf("%s.%s items %v, want %v", slug, f, ids, want)
					}
				}
			}
			var channels []string
			for _, s := range reported {
				channels = append(channels, s.Channel+"/"+s.ArticleID)
			}
			if want := []string{"lingling/bad", "xianshiqu/bad", "all/bad"}; !slices.Equal(channels, want) {
				t.Errorf("reported skips %v, want %v", channels, want)
			}
			// Nothing changed: no build renders, so the skip is not reported on every tick.
			reported = nil
			for _, slug := range []string{"lingling", "xianshiqu", syndicate.SiteFeed} {
				mustBuild(t, b, slug)
			}
			if len(reported) != 0 {
				t.Errorf("unchanged feeds reported skips again: %+v", reported)
			}
		})
	}
}
