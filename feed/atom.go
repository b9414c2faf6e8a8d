package feed

import (
	"time"

	"github.com/gorilla/feeds"
	syndicate "github.com/yongzhou-news/syndicate"
)

// atomDoc extends gorilla's AtomFeed. Fields of the outer struct shadow embedded ones with the
// same element name (encoding/xml keeps the shallower field), which is how Links, Categories and
// Entries replace gorilla's single <link>, single category string and entry type.
type atomDoc struct {
	*feeds.AtomFeed
	Lang       string           `xml:"xml:lang,attr,omitempty"` // RFC 4287 §2: xml:lang on any element
	HistoryNS  string           `xml:"xmlns:fh,attr,omitempty"` // on archive pages only
	Links      []feeds.AtomLink `xml:"link"`
	Categories []atomCategory   `xml:"category"`
	Generator  *atomGenerator   `xml:"generator"`
	Archive    *fhArchive       `xml:"fh:archive"` // RFC 5005 §4: this document is an archive page
	Entries    []*atomEntry     `xml:"entry"`
}

// FeedXml makes atomDoc a feeds.XmlFeed.
func (a *atomDoc) FeedXml() interface{} { return a }

// atomEntry extends gorilla's entry with several authors and categories and a language.
type atomEntry struct {
	*feeds.AtomEntry
	Lang         string                  `xml:"xml:lang,attr,omitempty"`
	Authors      []feeds.AtomAuthor      `xml:"author"`
	Contributors []feeds.AtomContributor `xml:"contributor"`
	Categories   []atomCategory          `xml:"category"`
}

// atomCategory is RFC 4287 §4.2.2 atom:category.
type atomCategory struct {
	Term string `xml:"term,attr"`
}

// atomGenerator is RFC 4287 §4.2.4 atom:generator.
type atomGenerator struct {
	Name string `xml:",chardata"`
}

func encodeAtom(d *document) ([]byte, error) {
	f := (&feeds.Atom{Feed: d.base}).AtomFeed()
	// gorilla uses the alternate link as the feed id; ours is the stable tag: URI (RFC 4287 §4.2.6).
	f.Id = d.site.FeedID(d.slug, syndicate.FormatAtom)
	f.Icon, f.Logo = d.icon, d.logo
	f.Author.Uri = d.site.BaseURL
	doc := &atomDoc{
		AtomFeed: f,
		Lang:     d.language,
		Links: []feeds.AtomLink{
			{Href: d.selfURL(syndicate.FormatAtom), Rel: "self", Type: "application/atom+xml"},
			{Href: d.link, Rel: "alternate", Type: "text/html"},
		},
		Categories: terms(d.categories),
		Generator:  &atomGenerator{Name: Generator},
		Entries:    make([]*atomEntry, len(f.Entries)),
	}
	// Archive pages keep the feed's id: RFC 5005 pages are parts of one logical feed.
	for _, l := range d.archiveLinks(syndicate.FormatAtom) {
		doc.Links = append(doc.Links, feeds.AtomLink{Href: l.href, Rel: l.rel, Type: "application/atom+xml"})
	}
	if d.archive.Page > 0 {
		doc.HistoryNS, doc.Archive = nsHistory, &fhArchive{}
	}
	for _, h := range d.hubs {
		doc.Links = append(doc.Links, feeds.AtomLink{Href: h, Rel: "hub"})
	}
	for i, e := range f.Entries {
		it := &d.items[i]
		// gorilla never writes <published> (RFC 4287 §4.2.9).
		e.Published = it.published.Format(time.RFC3339)
		if e.Summary != nil {
			e.Summary.Content = htmlText(it.summary)
		}
		for j := range e.Links {
			e.Links[j].Type = linkType(e.Links[j])
			if e.Links[j].Length == "0" {
				e.Links[j].Length = "" // unknown; RFC 4287 §4.2.7.6 makes length advisory, not required
			}
		}
		ae := &atomEntry{AtomEntry: e, Lang: it.language, Categories: terms(it.categories)}
		for _, name := range it.authors {
			ae.Authors = append(ae.Authors, feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: name}})
		}
		if it.editor != "" {
			ae.Contributors = []feeds.AtomContributor{{AtomPerson: feeds.AtomPerson{Name: it.editor}}}
		}
		doc.Entries[i] = ae
	}
	f.Entries = nil
	return writeXML(doc, d.stylesheet[syndicate.FormatAtom], d.sizeHint())
}

// linkType keeps an entry link's type and names the alternate one's: the article page is HTML.
func linkType(l feeds.AtomLink) string {
	if l.Rel == "alternate" && l.Type == "" {
		return "text/html"
	}
	return l.Type
}

func terms(list []string) []atomCategory {
	out := make([]atomCategory, len(list))
	for i, s := range list {
		out[i] = atomCategory{Term: s}
	}
	return out
}
