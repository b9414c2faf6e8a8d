package build_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/schema"
)

// An event says what the feed item announcing the same change says, as gofeed reads the feed:
// the title and summary as plain text with the item's fallbacks, the authors and tags cleaned,
// the link with an ASCII host. An aggregator showing the event's title never shows the markup
// or entities an editor typed.
func TestEventSaysWhatTheFeedItemSays(t *testing.T) {
	b, st := newBuilder(t)
	for _, a := range []syndicate.Article{
		{ID: "markup", Title: "<b>html</b> &amp; stuff", Summary: "<script>x</script>摘要", Authors: []string{"&lt;b&gt;彭沛&lt;/b&gt;", "彭沛"},
			Tags: []string{"&amp;标签", ""}, URL: "http://例子.测试/新闻?q=零陵"},
		{ID: "untitled", Summary: "only a summary here"},
		{ID: "content-only", ContentHTML: "<p>正文<b>内容</b></p>"},
	} {
		a.Channels = []string{"lingling"}
		a.PublishedAt = time.Date(2026, 11, 29, 1, 0, 0, 0, time.FixedZone("", -5*3600))
		a.Normalize()
		upsert(t, st, a)
	}
	mustBuild(t, b, "lingling")

	doc, err := st.Document(context.Background(), "lingling", syndicate.FormatJSON)
	if err != nil {
		t.Fatal(err)
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(doc.Body))
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]*gofeed.Item{}
	for _, it := range f.Items {
		items[it.GUID] = it
	}
	rows, err := st.PendingEvents(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d events, want 3", len(rows))
	}
	for _, r := range rows {
		if err := schema.ValidateItemEvent(r.Payload); err != nil {
			t.Errorf("event %s does not validate against its schema: %v", r.EventID, err)
		}
		var ev syndicate.CloudEvent
		if err := json.Unmarshal(r.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		d := ev.Data
		it := items[d.ItemID]
		if it == nil {
			t.Fatalf("%s: no feed item %s", d.ArticleID, d.ItemID)
		}
		if d.Title != it.Title || d.Summary != it.Description || d.URL != it.Link {
			t.Errorf("%s: event title %q summary %q url %q; feed item %q %q %q", d.ArticleID, d.Title, d.Summary, d.URL, it.Title, it.Description, it.Link)
		}
		if strings.IndexFunc(d.URL, func(r rune) bool { return r >= 0x80 }) >= 0 {
			t.Errorf("%s: url %q is an IRI, not a URI (RFC 3986: ASCII only)", d.ArticleID, d.URL)
		}
		var authors []string
		for _, p := range it.Authors {
			authors = append(authors, p.Name)
		}
		if !slices.Equal(d.Authors, authors) {
			t.Errorf("%s: event authors %q, feed item %q", d.ArticleID, d.Authors, authors)
		}
		if d.ArticleID == "markup" && (!slices.Equal(d.Tags, []string{"&标签"}) || !slices.Contains(it.Categories, "&标签")) {
			t.Errorf("markup: event tags %q, feed categories %q; want &标签 in both", d.Tags, it.Categories)
		}
	}
}
