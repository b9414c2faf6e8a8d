package web

import (
	"encoding/xml"
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
	Created string    `xml:"head>dateCreated,omitempty"`
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

// opmlExport answers GET /opml.
func (s *Server) opmlExport(w http.ResponseWriter, r *http.Request) {
	doc := opml{Version: "2.0", Title: sanitize.Line(s.site.Title), Created: time.Now().UTC().Format(time.RFC1123Z), Body: s.outlines("")}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/x-opml; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="syndicate.opml"`)
	w.Write([]byte(xml.Header))
	w.Write(out)
}
