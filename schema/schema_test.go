package schema_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/schema"
)

func TestEventsMatchTheSchema(t *testing.T) {
	raw, err := os.ReadFile("../demo/lingling-article.json")
	if err != nil {
		t.Fatal(err)
	}
	a, err := syndicate.DecodeArticle(raw)
	if err != nil {
		t.Fatal(err)
	}
	a.Normalize()
	tree, _ := syndicate.NewTree([]syndicate.Channel{{Slug: "xianshiqu", Title: "县市区"}, {Slug: "lingling", Title: "零陵", Parent: "xianshiqu"}})
	site := syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", TagDate: "2026"}
	for _, typ := range []string{syndicate.EventPublished, syndicate.EventUpdated, syndicate.EventRemoved} {
		ev := syndicate.NewItemEvent(site, tree, "lingling", typ, &a, 7, time.Now())
		row, err := syndicate.OutboxRowFor(ev, tree.Subject("syndicate", "lingling"))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.ValidateItemEvent(row.Payload); err != nil {
			t.Errorf("%s: %v\n%s", typ, err, row.Payload)
		}
	}
}

func TestSchemaRejectsBrokenEvents(t *testing.T) {
	good := `{"specversion":"1.0","id":"x","source":"http://localhost:8080","type":"syndicate.item.published","subject":"lingling","time":"2026-11-29T03:00:00Z","datacontenttype":"application/json",
	"data":{"channel":"lingling","channel_path":["xianshiqu","lingling"],"article_id":"a","item_id":"tag:localhost,2026:article/a","title":"t","url":"http://localhost:8080/articles/a","published_at":"2022-11-16T08:00:00+08:00","updated_at":"2022-11-16T08:00:00+08:00","feeds":{"rss":"http://x/r","atom":"http://x/a","json":"http://x/j"}}}`
	if err := schema.ValidateItemEvent([]byte(good)); err != nil {
		t.Fatalf("good event rejected: %v", err)
	}
	tests := map[string]string{
		"wrong type":      strings.Replace(good, "syndicate.item.published", "syndicate.item.eaten", 1),
		"no item id":      strings.Replace(good, `"item_id":"tag:localhost,2026:article/a",`, "", 1),
		"bad time":        strings.Replace(good, `"time":"2026-11-29T03:00:00Z"`, `"time":"yesterday"`, 1),
		"unknown data":    strings.Replace(good, `"title":"t"`, `"title":"t","extra":1`, 1),
		"bad specversion": strings.Replace(good, `"specversion":"1.0"`, `"specversion":"0.3"`, 1),
	}
	for name, doc := range tests {
		if !json.Valid([]byte(doc)) {
			t.Fatalf("%s: test document is not JSON", name)
		}
		if err := schema.ValidateItemEvent([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
