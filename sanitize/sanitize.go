// Package sanitize makes stored text safe to put in a feed: Text drops what XML cannot carry, and
// HTML applies the feeds' HTML policy to an article's content. Imports run HTML once per article
// version and the store keeps the result beside the original (syndicate.Article.Sanitized), so
// builds, which render every item of a channel each time, do not sanitise the same story again.
package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	syndicate "github.com/yongzhou-news/syndicate"
)

// Policy names the HTML policy below. Change it whenever the policy or HTML changes: every feed
// is then rendered again (it is part of a build's fingerprint), and content sanitised under
// another name is sanitised again, so every replica renders the same bytes whatever its store
// kept. During a rolling upgrade, replicas of both versions rewrite each other's saved results;
// that costs writes, not correctness, and ends with the upgrade.
const Policy = "ugc-2"

// policy is built once: constructing a bluemonday policy compiles dozens of regular expressions,
// and a built policy is safe for concurrent use (bluemonday README, "Usage").
//
// UGCPolicy already drops script, style, iframe, event-handler attributes and every URL scheme
// but http, https and mailto, while keeping paragraphs, headings, lists, images, links and
// tables. Its rel="nofollow" on every link only adds noise to a feed a reader republishes.
//
// UGCPolicy lets alt and title through only when they match bluemonday.Paragraph, a pattern of
// Latin punctuation: a Chinese caption such as "零陵古城，（摄影：黎俊）" fails it and the whole
// attribute vanishes (issue #13). Both are text, never URLs or script, and bluemonday escapes
// every attribute value it writes, so any text is safe in them; the extra rules below are OR-ed
// with UGC's.
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowAttrs("alt").OnElements("img", "area")
	p.AllowAttrs("title").Globally()
	return p
}()

// HTML returns content with only the markup the policy allows, and without characters XML
// forbids going in. Relative links are left relative: they resolve against the item's link,
// which depends on the site's configuration, so the renderer makes them absolute.
func HTML(content string) syndicate.Sanitized {
	if strings.TrimSpace(content) == "" {
		return syndicate.Sanitized{Policy: Policy}
	}
	// bluemonday writes a quote in text and attribute values as "&#34;"; feedparser (and the
	// readers built on it) ends an attribute value at that reference, so a caption such as
	// alt="x&#34; y" read as alt="x". "&quot;" means the same to every HTML parser and survives.
	// No "&#34;" in the output is anything but a reference: a literal one is escaped as "&amp;#34;".
	return syndicate.Sanitized{Policy: Policy, HTML: strings.ReplaceAll(policy.Sanitize(Text(content)), "&#34;", "&quot;")}
}

// Current returns a's sanitised content: the stored result when it was made under Policy, or a
// fresh one otherwise.
func Current(a *syndicate.Article) syndicate.Sanitized {
	if a.Sanitized.Policy == Policy {
		return a.Sanitized
	}
	return HTML(a.ContentHTML)
}

// Text makes s safe for every output format: invalid UTF-8 becomes U+FFFD, and characters
// that XML 1.0 forbids (§2.2: everything below U+0020 except tab, LF and CR, the surrogates, and
// U+FFFE/U+FFFF) are dropped. encoding/xml writes them raw inside CDATA, which is exactly how
// gorilla/feeds v1.2.0 produces RSS that no parser accepts. Strings that need no change are
// returned as they are, without allocating.
func Text(s string) string {
	if isCleanText(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if isXMLChar(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isCleanText reports whether Text would leave s as it is. It looks at bytes, not runes:
// valid UTF-8 already excludes the surrogates, so what is left to find are the C0 controls and
// the encodings of U+FFFE and U+FFFF. Every title, summary and article body passes through here,
// and decoding rune by rune cost more than the rest of the text hygiene.
func isCleanText(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			return false
		case c == 0xEF && i+2 < len(s) && s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF):
			return false
		}
	}
	return utf8.ValidString(s)
}

// isXMLChar reports whether r matches the Char production of XML 1.0 §2.2.
func isXMLChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	case r < 0x10000:
		return false
	default:
		return r <= unicode.MaxRune
	}
}
