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
		c := syndicate.ItemChange{Type: typ, Article: &a, Revision: 7, At: time.Now()}
		if typ == syndicate.EventRemoved {
			c.Reason = syndicate.ReasonMoved
		}
		ev := syndicate.NewItemEvent(site, tree, "lingling", c)
		row, err := syndicate.OutboxRowFor(ev, syndicate.EventSubject("syndicate", tree.Path("lingling"), typ), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.ValidateItemEvent(row.Payload); err != nil {
			t.Errorf("%s: %v\n%s", typ, err, row.Payload)
		}
	}
}

func TestSchemaRejectsBrokenEvents(t *testing.T) {
	good := `{"specversion":"1.0","id":"0192d4e8-7c1a-7e3b-9d2f-4a5b6c7d8e9f","source":"http://localhost:8080","type":"cn.yongzhou-news.syndicate.item.published","subject":"tag:localhost,2026:article/a","time":"2026-11-29T03:00:00Z","datacontenttype":"application/json","dataschema":"http://localhost:8080/schema/item-data/v1.json",
	"data":{"channel":"lingling","channel_path":["xianshiqu","lingling"],"article_id":"a","item_id":"tag:localhost,2026:article/a","title":"t","url":"http://localhost:8080/articles/a","published_at":"2022-11-16T08:00:00+08:00","updated_at":"2022-11-16T08:00:00+08:00","feeds":{"rss":"http://x/r","atom":"http://x/a","json":"http://x/j"},"revision":1}}`
	tests := []struct {
		name string
		doc  string
		ok   bool
	}{
		{"good", good, true},
		// Forward compatibility: a field added later must not break consumers validating with v1.
		{"unknown data field", strings.Replace(good, `"title":"t"`, `"title":"t","extra":1`, 1), true},
		{"unknown attribute", strings.Replace(good, `"specversion":"1.0"`, `"specversion":"1.0","partitionkey":"x"`, 1), true},
		{"unknown feed format", strings.Replace(good, `"json":"http://x/j"`, `"json":"http://x/j","rdf":"http://x/d"`, 1), true},
		{"wrong type", strings.Replace(good, "item.published", "item.eaten", 1), false},
		{"no item id", strings.Replace(good, `"item_id":"tag:localhost,2026:article/a",`, "", 1), false},
		{"subject not the item", strings.Replace(good, `"subject":"tag:localhost,2026:article/a"`, `"subject":"lingling"`, 1), false},
		{"no revision", strings.Replace(good, `,"revision":1`, "", 1), false},
		{"bad reason", strings.Replace(good, `"revision":1`, `"revision":1,"reason":"lost"`, 1), false},
		{"bad time", strings.Replace(good, `"time":"2026-11-29T03:00:00Z"`, `"time":"yesterday"`, 1), false},
		{"bad specversion", strings.Replace(good, `"specversion":"1.0"`, `"specversion":"0.3"`, 1), false},
	}
	for _, tt := range tests {
		if !json.Valid([]byte(tt.doc)) {
			t.Fatalf("%s: test document is not JSON", tt.name)
		}
		if err := schema.ValidateItemEvent([]byte(tt.doc)); (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
