package ingest

import (
	"time"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
)

// dateFix says what the date policy did to one item.
type dateFix int

const (
	dateKept    dateFix = iota
	dateClamped         // in the future beyond the horizon: set to the fetch time
	dateMissing         // none, unparseable or before 1900: set to the time it was first seen
)

// itemDates picks an item's published and updated times under the date policy every door shares
// (syndicate.Limits.ClampDate, measured from the fetch time now). An item dated beyond the future
// horizon is clamped to now: it would otherwise sit on top of its channels for as long as its
// date is ahead. An item without a usable date (none, unparseable, or outside the plausible range:
// zero times, year 1 and 1601 file times from broken feeds, year 9999) gets now, which Poll
// replaces with the date the article was first stored, so re-polls do not look like edits.
func itemDates(it *gofeed.Item, now time.Time, lim syndicate.Limits) (published, updated time.Time, fix dateFix) {
	lim.Now = func() time.Time { return now }
	usable := func(t *time.Time) (time.Time, dateFix, bool) {
		if t == nil {
			return time.Time{}, dateMissing, false
		}
		c, ok := lim.ClampDate(*t)
		switch {
		case !ok:
			return time.Time{}, dateMissing, false
		case !c.Equal(*t):
			return now, dateClamped, true
		}
		return c, dateKept, true
	}
	pub, pubFix, ok := usable(it.PublishedParsed)
	if !ok {
		pub, pubFix, ok = usable(it.UpdatedParsed)
	}
	if !ok {
		return now, time.Time{}, dateMissing
	}
	if up, upFix, ok := usable(it.UpdatedParsed); ok && !up.Before(pub) {
		updated = up
		if upFix == dateClamped && pubFix == dateKept {
			pubFix = dateClamped
		}
	}
	return pub, updated, pubFix
}
