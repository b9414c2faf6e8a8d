package feed

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gorilla/feeds"
	syndicate "github.com/yongzhou-news/syndicate"
)

// jsonDoc extends gorilla's JSONFeed. encoding/json lets an outer field shadow an embedded one
// of the same name: Items replaces gorilla's, whose omitempty drops the array the JSON Feed 1.1
// spec requires even when the feed is empty.
type jsonDoc struct {
	*feeds.JSONFeed
	Items []*jsonItem `json:"items"`
}

// jsonItem extends gorilla's item with a language and spec-conformant attachments (gorilla
// writes "size" where JSON Feed 1.1 says "size_in_bytes"). Its BannerImage stays empty: gorilla
// tags it "banner_", a member no reader knows.
type jsonItem struct {
	*feeds.JSONItem
	Language    string           `json:"language,omitempty"`
	Attachments []jsonAttachment `json:"attachments,omitempty"`
}

type jsonAttachment struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
}

func encodeJSON(d *document) ([]byte, error) {
	f := (&feeds.JSON{Feed: d.base}).JSONFeed()
	// feed_url identifies the feed (JSON Feed 1.1), so archive pages keep the subscription's.
	f.FeedUrl = d.site.FeedURL(d.slug, syndicate.FormatJSON)
	f.NextUrl = d.nextURL()
	f.Language = d.language
	f.Icon, f.Favicon = d.logo, d.icon
	// "author" is deprecated in 1.1; gorilla fills both it and "authors" with a bare name. No
	// top-level "authors" either: readers merge it into every item (JSON Feed 1.1 lets an item
	// inherit the feed's authors), so the 零陵 story read "彭沛, 红网永州站, 黎俊" (issue #15).
	f.Author, f.Authors = nil, nil
	for _, h := range d.hubs {
		f.Hubs = append(f.Hubs, &feeds.JSONHub{Type: "WebSub", Url: h})
	}
	doc := &jsonDoc{JSONFeed: f, Items: make([]*jsonItem, len(f.Items))}
	for i, ji := range f.Items {
		it := &d.items[i]
		ji.Tags = it.categories
		ji.Image = it.image
		if ji.ContentHTML == "" {
			// JSON Feed 1.1 requires content_html or content_text; the summary has already
			// fallen back to the title when it was empty (newItem).
			ji.ContentText = it.summary
		}
		for _, name := range it.authors {
			ji.Authors = append(ji.Authors, &feeds.JSONAuthor{Name: name})
		}
		item := &jsonItem{JSONItem: ji, Language: it.language}
		if it.image != "" {
			item.Attachments = []jsonAttachment{{URL: it.image, MIMEType: it.imageType}}
		}
		doc.Items[i] = item
	}
	f.Items = nil

	var buf bytes.Buffer
	buf.Grow(d.sizeHint())
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // served as application/feed+json, never inlined in a page
	// No indentation: it is a second pass over the whole document that took two thirds of
	// the encoding time, for readers that parse rather than read.
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode JSON Feed: %w", err)
	}
	return buf.Bytes(), nil
}
