package ingest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
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

// A JSON Feed may carry NUL characters (XML cannot). The rules every door applies take care of
// them: a plain-text field holding one is refused like any control character, and only that item
// is lost; in content_html the sanitiser drops it, and the stores keep the content as sent (the
// PostgreSQL store in a json column, which takes the \u0000 escape that text and jsonb refuse).
func TestJSONFeedNULs(t *testing.T) {
	body := `{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[` +
		`{"id":"title","title":"零\u0000陵","content_text":"x","date_published":"2022-11-16T08:00:00+08:00"},` +
		`{"id":"author","title":"作者","authors":[{"name":"彭\u0000沛"}],"content_text":"x","date_published":"2022-11-16T08:00:00+08:00"},` +
		`{"id":"content","title":"正文","content_html":"<p>a\u0000b</p>","date_published":"2022-11-16T08:00:00+08:00"},` +
		`{"id":"ok","title":"好","content_text":"x","date_published":"2022-11-16T08:00:00+08:00"}]}`
	srv := serveString(&body)
	defer srv.Close()
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			p, st := newPoller(t)
			var articles interface {
				Article(ctx context.Context, id string) (syndicate.Article, error)
				NewestItems(ctx context.Context, channels []string, limit int) ([]syndicate.Article, error)
			} = st
			if engine == "postgres" {
				pg := postgrestest.Open(t)
				p.Store, articles = pg, pg
			}
			ctx := context.Background()
			res, err := p.Poll(ctx, ingest.Source{Name: "j", URL: srv.URL, Channels: []string{"lingling"}})
			if err != nil || res.Created != 2 || res.Rejected != 2 {
				t.Fatalf("poll: %+v, %v; want the items with NUL in plain text rejected, the others stored", res, err)
			}
			for _, id := range []string{"title", "author"} {
				if _, err := articles.Article(ctx, ingest.ArticleID("j", &gofeed.Item{GUID: id})); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
					t.Errorf("item %q with a NUL in plain text: %v, want it not stored", id, err)
				}
			}
			// As builds read it: with the content the import sanitised.
			items, err := articles.NewestItems(ctx, []string{"lingling"}, 10)
			if err != nil || len(items) != 2 {
				t.Fatalf("stored items %v, %v; want 2", items, err)
			}
			id := ingest.ArticleID("j", &gofeed.Item{GUID: "content"})
			i := slices.IndexFunc(items, func(a syndicate.Article) bool { return a.ID == id })
			if i < 0 || items[i].ContentHTML != "<p>a\x00b</p>" || items[i].Sanitized.HTML != "<p>ab</p>" {
				t.Errorf("content with a NUL: %+v", items)
			}
		})
	}
}
