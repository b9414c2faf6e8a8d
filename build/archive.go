package build

import (
	"context"
	"fmt"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/store"
)

// Archive renders pages of channels' archived feeds (RFC 5005 §4): complete pages of
// feed.ArchivePageSize items each, in the order the articles were created (store.ArchivePage),
// oldest first. Pages are rendered on demand, not by builds, since a channel may have thousands;
// a page is a pure function of the stored articles, so every replica renders the same bytes.
//
// The site-wide feed (syndicate.SiteFeed) has an archive too, of every channel's articles.
// Its fields must be set before the first Page.
type Archive struct {
	Store       store.Store
	Site        syndicate.Site
	Tree        *syndicate.Tree
	Stylesheets bool // add <?xml-stylesheet?> to RSS and Atom, as Builder.Stylesheets does
}

// ArchivePage is one archive page read from the store, ready to render in any format.
type ArchivePage struct {
	// Fingerprint digests everything the page is rendered from: equal fingerprints render
	// equal bytes, so a cached rendering with the same one is still right.
	Fingerprint string
	in          feed.Input
}

// Page reads page n (from 1, the oldest) of slug's archive. It returns ENOTFOUND for an unknown
// channel and for a page that is not complete: only complete pages are archive documents, the
// newer items are in the channel's feed.
func (a *Archive) Page(ctx context.Context, slug string, n int) (*ArchivePage, error) {
	ch, ok := a.Tree.Channel(slug)
	if slug == syndicate.SiteFeed {
		ch, ok = siteChannel(a.Site), true
	}
	if !ok {
		return nil, syndicate.Errorf(syndicate.ENOTFOUND, "unknown channel %q", slug)
	}
	channels := feedChannels(a.Tree, slug)
	count, err := a.Store.ArchiveCount(ctx, channels)
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", slug, err)
	}
	pages := feed.CompletePages(count)
	if n < 1 || n > pages {
		return nil, syndicate.Errorf(syndicate.ENOTFOUND, "archive page %d of %q does not exist: it has %d complete pages", n, slug, pages)
	}
	items, err := a.Store.ArchivePage(ctx, channels, n, feed.ArchivePageSize)
	if err != nil {
		return nil, fmt.Errorf("archive %s page %d: %w", slug, n, err)
	}
	if len(items) < feed.ArchivePageSize {
		// Articles were deleted between the two reads; the page is not complete (any more).
		return nil, syndicate.Errorf(syndicate.ENOTFOUND, "archive page %d of %q is not complete", n, slug)
	}
	// Builds report the items left out; a page leaves them out too, quietly.
	items, _ = renderableItems(slug, items, a.Site.Timezone)
	in := feed.Input{
		Site: a.Site, Tree: a.Tree, Channel: ch, Items: items,
		// A page shows only whether a newer one exists (next-archive), so pages beyond n+1 are
		// left out: completing page 9 must not change page 3's fingerprint.
		Archive: feed.Archive{Page: n, Pages: min(pages, n+1)},
		// No <ttl> and no WebSub hubs: a complete page does not change, and it is the
		// subscription feed that readers follow.
	}
	if a.Stylesheets {
		in.Stylesheet = stylesheets(a.Site)
	}
	return &ArchivePage{Fingerprint: fingerprint((&Builder{}).configFingerprint(in), in), in: in}, nil
}

// Render renders the page in format. The document's Modified is the newest update of its items,
// not the time of rendering, so that replicas and restarts agree on Last-Modified.
func (p *ArchivePage) Render(format string) (syndicate.Document, error) {
	body, err := feed.Render(p.in, format)
	if err != nil {
		return syndicate.Document{}, err
	}
	var modified time.Time
	for _, a := range p.in.Items {
		if a.UpdatedAt.After(modified) {
			modified = a.UpdatedAt
		}
	}
	return syndicate.Document{
		Channel: p.in.Channel.Slug, Format: format, Body: body, ETag: syndicate.ETagOf(body),
		Modified: modified.UTC().Truncate(time.Second),
	}, nil
}
