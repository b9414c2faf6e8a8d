package web

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"time"

	"github.com/yongzhou-news/syndicate/sanitize"
)

// OPML 2.0 (http://opml.org/spec2.opml) subscription list: one feed outline per channel, in
// folders shaped like the tree, so a reader imports every feed at once.
type opml struct {
	XMLName xml.Name  `xml:"opml"`
	Version string    `xml:"version,attr"`
	Title   string    `xml:"head>title"`
	Body    []outline `xml:"body>outline"`
}

type outline struct {
	Text     string    `xml:"text,attr"`
	Title    string    `xml:"title,attr,omitempty"`
	Type     string    `xml:"type,attr,omitempty"`
	XMLURL   string    `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string    `xml:"htmlUrl,attr,omitempty"`
	Language string    `xml:"language,attr,omitempty"`
	Children []outline `xml:"outline"`
}

// outlines returns the outlines of parent's children. Readers following the subscription-list
// convention take an outline with xmlUrl as one feed and ignore what it holds, which lost the
// 14 county feeds under 县市区 (issue #15). So a channel with children becomes a folder (text
// and title, no xmlUrl) holding its own feed as a leaf, then its children's outlines.
func (s *Server) outlines(parent string) []outline {
	var out []outline
	for _, slug := range s.tree.Children(parent) {
		c, _ := s.tree.Channel(slug)
		title := sanitize.Line(c.Title)
		feed := outline{Text: title, Title: title, Type: "rss", XMLURL: s.site.FeedURL(slug, "rss"),
			HTMLURL: s.site.ChannelURL(slug), Language: s.site.Language}
		children := s.outlines(slug)
		if len(children) == 0 {
			out = append(out, feed)
			continue
		}
		out = append(out, outline{Text: title, Title: title, Children: append([]outline{feed}, children...)})
	}
	return out
}

// opmlExport answers GET /opml. The list depends on the channel tree alone, so it is rendered
// once, with no dateCreated: every request and every replica gets the same bytes, and readers
// that refresh a subscription list revalidate it (ETag, 304) and get it gzipped like the pages.
func (s *Server) opmlExport(w http.ResponseWriter, r *http.Request) {
	p, err := s.pages.get(opmlKey, func() (*page, error) {
		doc := opml{Version: "2.0", Title: sanitize.Line(s.site.Title), Body: s.outlines("")}
		out, err := xml.MarshalIndent(doc, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("web: render OPML: %w", err)
		}
		p := newPage(append([]byte(xml.Header), out...), time.Time{})
		p.contentType = opmlContentType
		return p, nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header()["Content-Disposition"] = opmlDisposition
	writePage(w, r, p, pageVary, pageCacheControl)
}

var (
	opmlContentType = []string{"text/x-opml; charset=utf-8"}
	opmlDisposition = []string{`inline; filename="syndicate.opml"`}
)
