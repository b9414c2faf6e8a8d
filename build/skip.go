package build

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/feed"
)

// A build never fails because of one article. The store holds what an older version, an import
// before validation existed, or a hand-edited row put there; one item the encoders cannot take
// would otherwise freeze the channel's feed and the site-wide one until someone deletes it. Such
// an item is left out of the documents and reported through Builder.Skipped.

// Skip is one item a build left out of a channel's documents.
type Skip struct {
	Channel   string
	ArticleID string
	Err       error // why it cannot be rendered
}

// ErrDate is the reason for an item whose date readers cannot read.
var ErrDate = errors.New("date outside years 1 to 9999")

// checkDates reports a time the encoders cannot write. Time.MarshalJSON refuses years past 9999,
// and RFC 3339 and RFC 822 (RFC 1123Z in RSS) have four-digit years, so a year-10000 date
// would be written as a date no reader parses; year 0 is no better for readers. The year
// counts in the site's zone, where documents show it (9999-12-31T20:00Z is year 10000 in
// Asia/Shanghai), and in UTC, where events and hashes carry it.
func checkDates(a *syndicate.Article, loc *time.Location) error {
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"published_at", a.PublishedAt}, {"updated_at", a.UpdatedAt}} {
		if t.at.IsZero() {
			continue // the renderer falls back to the other date or the feed's
		}
		for _, z := range []*time.Location{time.UTC, loc} {
			if y := t.at.In(z).Year(); y < 1 || y > 9999 {
				return fmt.Errorf("%s %s in %s: %w", t.name, t.at.UTC().Format("2006-01-02T15:04:05Z07:00"), z, ErrDate)
			}
		}
	}
	return nil
}

// renderableItems returns items without those whose dates cannot be written in the zone, and
// the reasons for those left out.
func renderableItems(slug string, items []syndicate.Article, zone string) ([]syndicate.Article, []Skip) {
	loc, err := feed.Location(zone)
	if err != nil {
		loc = time.UTC // the renderer reports the bad zone itself, for the whole feed
	}
	var skips []Skip
	kept := items[:0:0]
	for i := range items {
		if err := checkDates(&items[i], loc); err != nil {
			skips = append(skips, Skip{Channel: slug, ArticleID: items[i].ID, Err: err})
			continue
		}
		kept = append(kept, items[i])
	}
	if len(skips) == 0 {
		return items, nil
	}
	return kept, skips
}

// renderTolerant renders in; when that fails, or panics, it looks for the items that make it
// fail (by halves: a feed of 50 items with one bad one takes about a dozen renders), leaves
// them out and renders the rest. It fails only when the feed cannot be rendered without any of
// its items either, which no article is to blame for. It returns the items rendered.
func renderTolerant(in feed.Input, now time.Time) ([]syndicate.Document, []syndicate.Article, []Skip, error) {
	docs, err := safeRender(in, now)
	if err == nil || len(in.Items) == 0 {
		return docs, in.Items, nil, err
	}
	empty := in
	empty.Items, empty.Updated = nil, now
	if _, emptyErr := safeRender(empty, now); emptyErr != nil {
		return nil, nil, nil, err
	}
	var bad []int
	var find func(lo, hi int)
	find = func(lo, hi int) {
		part := in
		part.Items = in.Items[lo:hi]
		part.Updated = newestUpdate(part.Items, now)
		perr := err
		if lo != 0 || hi != len(in.Items) {
			_, perr = safeRender(part, now)
		}
		switch {
		case perr == nil:
		case hi-lo == 1:
			bad = append(bad, lo)
		default:
			mid := (lo + hi) / 2
			find(lo, mid)
			find(mid, hi)
		}
	}
	find(0, len(in.Items))
	if len(bad) == 0 {
		return nil, nil, nil, err // only the items together fail: no one of them is to blame
	}
	var skips []Skip
	kept := make([]syndicate.Article, 0, len(in.Items)-len(bad))
	for i, a := range in.Items {
		if len(skips) < len(bad) && bad[len(skips)] == i {
			_, ierr := safeRender(feed.Input{Site: in.Site, Tree: in.Tree, Channel: in.Channel, Items: in.Items[i : i+1], Updated: now}, now)
			if ierr == nil {
				ierr = err
			}
			skips = append(skips, Skip{Channel: in.Channel.Slug, ArticleID: a.ID, Err: ierr})
			continue
		}
		kept = append(kept, a)
	}
	rest := in
	rest.Items = kept
	rest.Updated = newestUpdate(kept, now)
	if docs, err = safeRender(rest, now); err != nil {
		return nil, nil, nil, err
	}
	return docs, kept, skips, nil
}

// PanicError is a panic of the renderer, turned into an error; Stack is where it happened.
type PanicError struct {
	Value any
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("render panicked: %v", e.Value) }

// safeRender renders in, turning a panic of the encoders into a *PanicError.
func safeRender(in feed.Input, now time.Time) (docs []syndicate.Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, &PanicError{Value: r, Stack: string(debug.Stack())}
		}
	}()
	return render(in, now)
}
