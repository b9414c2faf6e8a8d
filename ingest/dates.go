package ingest

import (
	"time"

	"github.com/mmcdole/gofeed"
)

// DefaultFutureHorizon is how far ahead of the fetch an item's date may be before it is clamped.
// It stands in for syndicate.DefaultLimits().FutureHorizon until that lands in the root package.
const DefaultFutureHorizon = 24 * time.Hour

// earliest is the first plausible date of a news item: older dates come from broken feeds (zero
// times, year 1, 1601 file times) and would sink the item below everything else.
var earliest = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// dateFix says what the date policy did to one item.
type dateFix int

const (
	dateKept    dateFix = iota
	dateClamped         // in the future beyond the horizon: set to the fetch time
	dateMissing         // none, unparseable or before 1900: set to the time it was first seen
)

// itemDates picks an item's published and updated times under the date policy. An item dated
// beyond now+horizon is clamped to now: it would otherwise sit on top of its channels for as long
// as its date is ahead. An item without a usable date gets now, which Poll replaces with the date
// the article was first stored, so re-polls do not look like edits.
func itemDates(it *gofeed.Item, now time.Time, horizon time.Duration) (published, updated time.Time, fix dateFix) {
	limit := now.Add(horizon)
	usable := func(t *time.Time) (time.Time, dateFix, bool) {
		switch {
		case t == nil || t.Before(earliest):
			return time.Time{}, dateMissing, false
		case t.After(limit):
			return now, dateClamped, true
		}
		return *t, dateKept, true
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
