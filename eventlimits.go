package syndicate

import (
	"strings"
	"unicode/utf8"
)

// Limits of the text an event carries. An article may hold anything (a title of a megabyte was
// seen), but its event must fit the NATS server's max_payload (1 MB by default, often set lower)
// or the relay cannot publish it. With these limits an event stays under 32 KiB: the title, summary,
// authors and tags below add up to at most 1 + 4 + 20·0.25 + 30·0.125 ≈ 14 KiB, the URLs to 4 KiB,
// and the ids, feed URLs and times are bounded by the site configuration and the store (article ids
// of at most 200 bytes). OutboxRowFor writes < > & as they are; a quote, a backslash, a tab or a
// line break takes two bytes, which the 32 KiB allow for (TestItemEventWorstCase: 29 KiB).
const (
	MaxTitleBytes   = 1024 // title, cut at a rune boundary, marker included
	MaxSummaryBytes = 4096 // summary
	MaxAuthors      = 20   // authors kept, in order
	MaxAuthorBytes  = 256  // each author
	MaxTags         = 30   // tags kept, in order
	MaxTagBytes     = 128  // each tag
	MaxImageURL     = 2048 // a longer image URL is dropped: a cut URL points nowhere
	// MaxArticleURL bounds url: a longer one is replaced with the site's own page for the
	// article (Site.ArticleURL of an article without a URL), which the event's source gives.
	MaxArticleURL = 2048
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
	if len(d.URL) > MaxArticleURL {
		d.URL, cut = Site{BaseURL: ev.Source}.ArticleURL(&Article{ID: d.ArticleID}), true
	}
	d.Truncated = d.Truncated || cut
	return ev
}

// Shorten returns s when it has at most n bytes, and otherwise its start cut at a rune boundary
// and ended with TruncationMarker, n bytes at most in all (the marker alone when n is smaller
// than it): valid UTF-8 whatever s holds, for events, error messages and reports alike.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	n = max(n-len(TruncationMarker), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.ToValidUTF8(s[:n], "") + TruncationMarker
}

// truncate is Shorten saying whether it cut.
func truncate(s string, max int) (string, bool) {
	return Shorten(s, max), len(s) > max
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
