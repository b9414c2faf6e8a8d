package syndicate

import (
	"strings"
	"unicode/utf8"
)

// Limits of the text an event carries. An article may hold anything (a title of a megabyte was
// seen), but its event must fit the NATS server's max_payload (1 MB by default, often set lower)
// or the relay cannot publish it. With these limits an event stays under 32 KiB: the title, summary,
// authors and tags below add up to at most 1 + 4 + 20·0.25 + 30·0.125 ≈ 14 KiB, and the ids, URLs
// and times are bounded by the site configuration and the store (article ids of at most 200 bytes).
const (
	MaxTitleBytes   = 1024 // title, cut at a rune boundary, marker included
	MaxSummaryBytes = 4096 // summary
	MaxAuthors      = 20   // authors kept, in order
	MaxAuthorBytes  = 256  // each author
	MaxTags         = 30   // tags kept, in order
	MaxTagBytes     = 128  // each tag
	MaxImageURL     = 2048 // a longer image URL is dropped: a cut URL points nowhere
	// TruncationMarker ends every shortened text.
	TruncationMarker = "…"
)

// Bound returns ev with its text within the Max* limits, setting Data.Truncated when it had to
// shorten or drop anything. The slices of the result are new when they were shortened, so the
// article they came from is never changed.
func (ev CloudEvent) Bound() CloudEvent {
	d := &ev.Data
	cut := false
	var c bool
	d.Title, c = truncate(d.Title, MaxTitleBytes)
	cut = cut || c
	d.Summary, c = truncate(d.Summary, MaxSummaryBytes)
	cut = cut || c
	d.Authors, c = truncateList(d.Authors, MaxAuthors, MaxAuthorBytes)
	cut = cut || c
	d.Tags, c = truncateList(d.Tags, MaxTags, MaxTagBytes)
	cut = cut || c
	if len(d.ImageURL) > MaxImageURL {
		d.ImageURL, cut = "", true
	}
	d.Truncated = d.Truncated || cut
	return ev
}

// truncate cuts s to at most max bytes, ending with TruncationMarker, at a rune boundary.
func truncate(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	n := max - len(TruncationMarker)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.ToValidUTF8(s[:n], "") + TruncationMarker, true
}

// truncateList keeps at most maxItems entries of at most maxBytes each.
func truncateList(list []string, maxItems, maxBytes int) ([]string, bool) {
	over := len(list) > maxItems
	for _, s := range list {
		over = over || len(s) > maxBytes
	}
	if !over {
		return list, false
	}
	out := make([]string, 0, min(len(list), maxItems))
	for _, s := range list[:min(len(list), maxItems)] {
		s, _ = truncate(s, maxBytes)
		out = append(out, s)
	}
	return out, true
}
