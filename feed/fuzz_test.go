package feed

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	syndicate "github.com/yongzhou-news/syndicate"
)

// FuzzRender feeds arbitrary text into every article field that reaches a document and checks
// that each format stays well-formed and parseable with the same items. The seed corpus in
// testdata/fuzz/FuzzRender holds the known troublemakers (control characters, invalid UTF-8,
// "]]>", <script>, emoji, RTL marks, a 100 KB title) and runs in plain `go test`.
func FuzzRender(f *testing.F) {
	f.Add("标题", "摘要", "<p>正文</p>", "作者", "标签", "/img/a.jpg", "")
	tree := testTree(f)
	ch, _ := tree.Channel("lingling")
	pub := time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, title, summary, content, author, tag, image, link string) {
		items := []syndicate.Article{
			{
				ID: "fuzz-a", Title: title, Summary: summary, ContentHTML: content, URL: link,
				Authors: []string{author}, Editor: author, Source: tag, Tags: []string{tag, title},
				ImageURL: image, Language: tag, Channels: []string{"lingling", tag}, PublishedAt: pub,
			},
			{ // the same text in other fields
				ID: "fuzz-b", Title: content, Summary: author, ContentHTML: title, URL: image,
				Authors: []string{tag, summary}, ImageURL: link, Channels: []string{"zhongyao-xinwen"},
			},
		}
		in := Input{Site: testSite, Tree: tree, Channel: ch, Items: items, Updated: pub, Hubs: []string{link}}
		in.Stylesheet = map[string]string{syndicate.FormatRSS: image, syndicate.FormatAtom: title}
		out, err := RenderAll(in)
		if err != nil {
			t.Fatal(err)
		}
		wantIDs := []string{testSite.ItemID("fuzz-a"), testSite.ItemID("fuzz-b")}
		for _, format := range syndicate.Formats {
			body := out[format]
			if format == syndicate.FormatJSON {
				if !json.Valid(body) {
					t.Fatalf("json: invalid JSON:\n%s", head(body))
				}
			} else {
				walkXML(t, body)
			}
			parsed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s: gofeed: %v\n%s", format, err, head(body))
			}
			if len(parsed.Items) != len(wantIDs) {
				t.Fatalf("%s: %d items, want %d", format, len(parsed.Items), len(wantIDs))
			}
			for i, it := range parsed.Items {
				if it.GUID != wantIDs[i] {
					t.Errorf("%s: item %d id %q, want %q", format, i, it.GUID, wantIDs[i])
				}
				if it.Title == "" {
					t.Errorf("%s: item %d has an empty title", format, i)
				}
				// In sanitised HTML a "<" in text is escaped, so this can only be a tag.
				if strings.Contains(strings.ToLower(it.Content), "<script") {
					t.Errorf("%s: item %d content keeps a script: %q", format, i, it.Content)
				}
			}
		}
	})
}

// head keeps failure messages readable when a seed is 100 KB long.
func head(b []byte) []byte {
	if len(b) > 2000 {
		return append(b[:2000:2000], "…"...)
	}
	return b
}
