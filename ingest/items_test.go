package ingest_test

import (
	"context"
	"testing"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
)

func TestItemsWithoutGUIDOrLink(t *testing.T) {
	body := rssOf(
		`<item><title>无链接</title><description>甲</description><pubDate>Wed, 16 Nov 2022 08:00:00 +0800</pubDate></item>`,
		`<item><title>无链接</title><description>乙</description><pubDate>Wed, 16 Nov 2022 08:00:00 +0800</pubDate></item>`,
		`<item><title>无链接</title><description>甲</description><pubDate>Thu, 17 Nov 2022 08:00:00 +0800</pubDate></item>`,
		`<item><description>连标题也没有</description></item>`,
		`<item><title>有链接</title><link>http://up.example/a</link></item>`,
	)
	srv := serveString(&body)
	defer srv.Close()
	p, st := newPoller(t)
	src := ingest.Source{Name: "up", URL: srv.URL, Channels: []string{"lingling"}}
	ctx := context.Background()

	res, err := p.Poll(ctx, src)
	if err != nil || res.Created != 5 || res.Rejected != 0 {
		t.Fatalf("poll: %+v, %v; want 5 distinct articles", res, err)
	}
	res, err = p.Poll(ctx, src)
	if err != nil || res.Unchanged != 5 || res.Created != 0 {
		t.Fatalf("second poll: %+v, %v; ids must be stable", res, err)
	}
	a, err := st.Article(ctx, ingest.ArticleID("up", &gofeed.Item{Title: "无链接", Description: "乙", Published: "Wed, 16 Nov 2022 08:00:00 +0800"}))
	if err != nil || a.URL != "" || a.Summary != "乙" {
		t.Fatalf("URL-less article: %+v, %v", a, err)
	}
	if err := a.Validate(func(string) bool { return true }, syndicate.DefaultLimits()); err != nil {
		t.Errorf("stored URL-less article does not validate: %v", err)
	}
}

func TestArticleIDs(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b gofeed.Item
		same bool
	}{
		{"guid wins over link", gofeed.Item{GUID: "g", Link: "http://x/1"}, gofeed.Item{GUID: "g", Link: "http://x/2"}, true},
		{"link without guid", gofeed.Item{Link: "http://x/1", Title: "a"}, gofeed.Item{Link: "http://x/1", Title: "b"}, true},
		{"same title, other content", gofeed.Item{Title: "t", Content: "1"}, gofeed.Item{Title: "t", Content: "2"}, false},
		{"same title, other date", gofeed.Item{Title: "t", Published: "Mon"}, gofeed.Item{Title: "t", Published: "Tue"}, false},
		{"fields do not run together", gofeed.Item{Title: "ab", Description: "c"}, gofeed.Item{Title: "a", Description: "bc"}, false},
		{"identical", gofeed.Item{Title: "t", Description: "d"}, gofeed.Item{Title: "t", Description: "d"}, true},
	} {
		if same := ingest.ArticleID("s", &tc.a) == ingest.ArticleID("s", &tc.b); same != tc.same {
			t.Errorf("%s: same id = %v, want %v", tc.name, same, tc.same)
		}
	}
}

// A JSON Feed may carry NUL characters, which PostgreSQL refuses in text; they are dropped.
func TestJSONFeedNULsDropped(t *testing.T) {
	body := `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[` +
		`{"id":"nul","title":"零\u0000陵","content_html":"<p>a\u0000b</p>","date_published":"2022-11-16T08:00:00+08:00"},` +
		`{"id":"ok","title":"好","content_text":"x","date_published":"2022-11-16T08:00:00+08:00"}]}`
	srv := serveString(&body)
	defer srv.Close()
	p, st := newPoller(t)
	ctx := context.Background()
	if res, err := p.Poll(ctx, ingest.Source{Name: "j", URL: srv.URL, Channels: []string{"lingling"}}); err != nil || res.Created != 2 {
		t.Fatalf("poll: %+v, %v", res, err)
	}
	a, err := st.Article(ctx, ingest.ArticleID("j", &gofeed.Item{GUID: "nul"}))
	if err != nil || a.Title != "零陵" || a.ContentHTML != "<p>ab</p>" {
		t.Errorf("article %q %q, %v", a.Title, a.ContentHTML, err)
	}
}
