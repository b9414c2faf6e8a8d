package feed

import (
	"net/url"
	"strconv"

	syndicate "github.com/yongzhou-news/syndicate"
)

// ArchivePageSize is the number of items on every archive page. It is a constant rather than
// the channel's limit: pages are served as immutable, so what page n holds must not change when
// an operator changes a limit.
const ArchivePageSize = 50

// nsHistory is the namespace of RFC 5005's fh:archive element.
const nsHistory = "http://purl.org/syndication/history/1.0"

// Archive places a document in a channel's archived feed (RFC 5005 §4). Archive pages hold
// ArchivePageSize archive slots each (store.Store.ArchivePage), oldest first, and are numbered
// from 1, the oldest; a page shows fewer items when articles on it were deleted or moved. Only
// complete pages exist; the articles after the last of them are in the subscription document (the
// channel's feed) beside its newest items, and it links to the newest page.
type Archive struct {
	// Page is the page this document is, or 0 for the subscription document.
	Page int
	// Pages is the number of complete pages: the subscription document's prev-archive (and,
	// in JSON Feed, its next_url) names page Pages, and page n < Pages links to page n+1.
	Pages int
}

// CompletePages returns the number of complete archive pages of a feed with count archive slots
// (store.Store.ArchiveCount).
func CompletePages(count int) int { return count / ArchivePageSize }

// ArchivePath returns the path, under the site, of page n of slug's archive in format.
func ArchivePath(slug string, n int, format string) string {
	return "/feeds/" + url.PathEscape(slug) + "/archive/" + strconv.Itoa(n) + "." + format
}

// ArchiveURL returns the public URL of page n of slug's archive in format.
func ArchiveURL(site syndicate.Site, slug string, n int, format string) string {
	return site.BaseURL + ArchivePath(slug, n, format)
}

// archiveLink is one RFC 5005 link of a document, by relation.
type archiveLink struct{ rel, href string }

// archiveLinks returns the RFC 5005 links of d in format: prev-archive on the subscription
// document; current, prev-archive and next-archive on an archive page. An archive page has no
// next-archive while it is the newest one (RFC 5005 §4: "unless there are no following
// archives"), so it gains one when the next page completes; that changes no entry.
func (d *document) archiveLinks(format string) []archiveLink {
	a := d.archive
	if a.Page == 0 {
		if a.Pages == 0 {
			return nil
		}
		return []archiveLink{{"prev-archive", ArchiveURL(d.site, d.slug, a.Pages, format)}}
	}
	links := []archiveLink{{"current", d.site.FeedURL(d.slug, format)}}
	if a.Page > 1 {
		links = append(links, archiveLink{"prev-archive", ArchiveURL(d.site, d.slug, a.Page-1, format)})
	}
	if a.Page < a.Pages {
		links = append(links, archiveLink{"next-archive", ArchiveURL(d.site, d.slug, a.Page+1, format)})
	}
	return links
}

// selfURL is the document's own URL in format.
func (d *document) selfURL(format string) string {
	if d.archive.Page > 0 {
		return ArchiveURL(d.site, d.slug, d.archive.Page, format)
	}
	return d.site.FeedURL(d.slug, format)
}

// nextURL is JSON Feed 1.1's next_url: "the URL of a feed that provides the next n items", the
// older ones. The subscription feed's points to the newest archive page, each page's to the page
// before it; the oldest page has none.
func (d *document) nextURL() string {
	switch n := d.archive.Page; {
	case n == 0 && d.archive.Pages > 0:
		return ArchiveURL(d.site, d.slug, d.archive.Pages, syndicate.FormatJSON)
	case n > 1:
		return ArchiveURL(d.site, d.slug, n-1, syndicate.FormatJSON)
	}
	return ""
}

// fhArchive is RFC 5005's <fh:archive/>, which marks an archive document. encoding/xml writes
// it as <fh:archive></fh:archive>, the same element.
type fhArchive struct{}
