package feed

import (
	"encoding/xml"
	"strings"
	"time"

	"github.com/gorilla/feeds"
	syndicate "github.com/yongzhou-news/syndicate"
)

// Namespaces of the RSS extensions we write. encoding/xml cannot bind prefixes to namespaces on
// its own, so, like gorilla's content:encoded, the elements carry literal prefixes and the root
// declares them.
const (
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	nsAtom    = "http://www.w3.org/2005/Atom"
)

// rssDoc replaces gorilla's RssFeedXml root so that it can declare the dc and atom namespaces.
type rssDoc struct {
	XMLName   xml.Name `xml:"rss"`
	Version   string   `xml:"version,attr"`
	ContentNS string   `xml:"xmlns:content,attr"`
	DCNS      string   `xml:"xmlns:dc,attr"`
	AtomNS    string   `xml:"xmlns:atom,attr"`
	HistoryNS string   `xml:"xmlns:fh,attr,omitempty"` // on archive pages only
	Channel   *rssChannel
}

// FeedXml makes rssDoc a feeds.XmlFeed.
func (r *rssDoc) FeedXml() interface{} { return r }

// rssChannel extends gorilla's channel. encoding/xml lets a field of the outer struct shadow an
// embedded field of the same element name, so Categories and Items below replace gorilla's
// single-string category and its item type; they come last so that items follow the metadata.
type rssChannel struct {
	*feeds.RssFeed
	AtomLinks  []rssAtomLink `xml:"atom:link"`
	Archive    *fhArchive    `xml:"fh:archive"` // RFC 5005 §4 and its Appendix B (use in RSS 2.0)
	Categories []string      `xml:"category"`
	Items      []*rssItem    `xml:"item"`
}

// rssAtomLink is atom:link inside RSS: rel="self" is what the RSS Advisory Board's profile asks
// every feed to carry, rel="hub" is WebSub discovery (W3C WebSub §4), and current, prev-archive
// and next-archive tie archive pages together (RFC 5005 Appendix B).
type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

// rssItem extends gorilla's item with Dublin Core people (RSS <author> must be an e-mail
// address, which the portal does not publish) and several categories. Creator holds every
// author in one dc:creator: with one element per author, gofeed, feedparser and the readers
// built on them keep only the last (the 零陵 story showed 黎俊 alone, issue #15).
type rssItem struct {
	*feeds.RssItem
	Categories  []string `xml:"category"`
	Creator     string   `xml:"dc:creator,omitempty"`
	Contributor string   `xml:"dc:contributor,omitempty"`
	Source      string   `xml:"dc:source,omitempty"` // RSS <source> needs the URL of a feed we do not have
	Language    string   `xml:"dc:language,omitempty"`
	// RSS 2.0 has no modification date; atom:updated carries it (gofeed and feedparser read it).
	Updated string `xml:"atom:updated"`
}

// authorSeparator joins the authors in RSS dc:creator. A comma rather than the Chinese "、":
// readers in any language show it as a list, and feed readers that split names split on it.
const authorSeparator = ", "

func encodeRSS(d *document) ([]byte, error) {
	ch := (&feeds.Rss{Feed: d.base}).RssFeed()
	ch.Description = firstNonEmpty(d.description, d.title)
	ch.Language = d.language
	ch.Generator = Generator
	ch.Docs = "https://www.rssboard.org/rss-specification"
	ch.Ttl = d.ttlMinutes
	// gorilla writes "email (name)" even without an e-mail; RSS 2.0 wants an address here.
	ch.ManagingEditor = ""
	self := d.selfURL(syndicate.FormatRSS)
	c := &rssChannel{
		RssFeed:    ch,
		AtomLinks:  []rssAtomLink{{Href: self, Rel: "self", Type: "application/rss+xml"}},
		Categories: d.categories,
		Items:      make([]*rssItem, len(ch.Items)),
	}
	for _, l := range d.archiveLinks(syndicate.FormatRSS) {
		c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: l.href, Rel: l.rel, Type: "application/rss+xml"})
	}
	historyNS := ""
	if d.archive.Page > 0 {
		historyNS, c.Archive = nsHistory, &fhArchive{}
	}
	for _, h := range d.hubs {
		c.AtomLinks = append(c.AtomLinks, rssAtomLink{Href: h, Rel: "hub"})
	}
	for i, ri := range ch.Items {
		it := &d.items[i]
		ri.Description = htmlText(it.summary)
		c.Items[i] = &rssItem{
			RssItem:     ri,
			Categories:  it.categories,
			Creator:     strings.Join(it.authors, authorSeparator),
			Contributor: it.editor,
			Source:      it.source,
			Language:    it.language,
			Updated:     it.updated.Format(time.RFC3339),
		}
	}
	ch.Items = nil
	return writeXML(&rssDoc{
		Version:   "2.0",
		ContentNS: nsContent,
		DCNS:      nsDC,
		AtomNS:    nsAtom,
		HistoryNS: historyNS,
		Channel:   c,
	}, d.stylesheet[syndicate.FormatRSS], d.sizeHint())
}
