package build

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/feed"
)

// Archive renders pages of channels' archived feeds (RFC 5005 §4). Pages are rendered on demand,
// not by builds, since a channel may have thousands; a page is a pure function of the stored
// articles and the channel tree, so every replica renders the same bytes.
//
// Page n holds archive slots (n-1)·feed.ArchivePageSize+1 to n·feed.ArchivePageSize of the
// subtree (store.ArchivePage): an article takes a slot when it is filed in a channel, and slots
// are never renumbered, so what a complete page holds never moves to another page; a deletion or a
// move leaves it short. Pages are not by date: a back-dated article would then land on a page
// readers already cached as immutable, and they would never see it. The feed document holds the
// slots after the last complete page besides its newest items (feedItems), so walking back from
// the feed along prev-archive reaches every live article, in whatever order and with whatever
// dates articles were added (RFC 5005 §4: the union of the feed and its archives).
//
// The site-wide feed (syndicate.SiteFeed) has an archive too, of every channel's articles.
// Its fields must be set before the first Page.
type Archive struct {
	Store       Archives
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
// newer items are in the channel's feed. A complete page may hold fewer items than slots, even
// none: its deleted and moved articles leave gaps.
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
	modified := newestUpdate(p.in.Items, time.Time{}) // zero for a page of gaps only
	return syndicate.Document{
		Channel: p.in.Channel.Slug, Format: format, Body: body, ETag: syndicate.ETagOf(body),
		Modified: modified.UTC().Truncate(time.Second),
	}, nil
}

// feedItems returns the items of a feed: the limit newest by publication, and every article on
// the archive slots after end, the last slot of the last complete page (at most
// feed.ArchivePageSize-1 more), newest published first. Without the second part, an article
// added late with an old date falls out of the newest items before its page is complete and is
// in neither the feed nor the archive. The slots after end are read whatever their number, so
// articles filed after the pages were counted are in the feed too, until the next build links the
// page they complete.
func (b *Builder) feedItems(ctx context.Context, subtree []string, limit int, end int64) ([]syndicate.Article, error) {
	items, err := b.Store.NewestItems(ctx, subtree, limit)
	if err != nil {
		return nil, err
	}
	if len(items) < limit {
		// The subtree holds no more articles than these, so no slot after end shows another:
		// a small channel's build skips the read. One filed since NewestItems read (or, rarely,
		// left out because deletions raced its reads) has a change number after the build's,
		// and the next build reads it.
		return items, nil
	}
	ids := make([]string, len(items))
	for i, a := range items {
		ids[i] = a.ID
	}
	tail, err := b.Store.ArchiveAfter(ctx, subtree, end, ids)
	if err != nil {
		return nil, err
	}
	items = append(items, tail...)
	if len(tail) > 0 {
		// The order NewestItems gives: newest published first, ties by id.
		slices.SortStableFunc(items, func(x, y syndicate.Article) int {
			if c := y.PublishedAt.Compare(x.PublishedAt); c != 0 {
				return c
			}
			return strings.Compare(x.ID, y.ID)
		})
	}
	return items, nil
}
