package feed

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// cleanText makes s safe for every output format: invalid UTF-8 becomes U+FFFD, and characters
// that XML 1.0 forbids (§2.2: everything below U+0020 except tab, LF and CR, the surrogates, and
// U+FFFE/U+FFFF) are dropped. encoding/xml writes them raw inside CDATA, which is exactly how
// gorilla/feeds v1.2.0 produces RSS that no parser accepts. Strings that need no change are
// returned as they are, without allocating.
func cleanText(s string) string {
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

func isCleanText(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
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

// tagPattern matches things that look like HTML tags or comments. Titles and summaries are plain
// text by contract, but editors paste markup into them; a lone "<" as in "1<2" is left alone.
var tagPattern = regexp.MustCompile(`(?s)<(?:!--.*?-->|[A-Za-z/!?][^<>]*>)`)

// plainLine turns a title-like field into one line of plain text: markup stripped, entities
// decoded (portal titles arrive with &quot; and &nbsp;), whitespace collapsed, then cleaned,
// because decoding &#1; yields a character XML forbids.
func plainLine(s string) string {
	if strings.ContainsRune(s, '<') {
		s = tagPattern.ReplaceAllString(s, " ")
	}
	if strings.ContainsRune(s, '&') {
		s = html.UnescapeString(s)
	}
	return cleanText(collapseSpace(s))
}

// collapseSpace trims s and turns every run of white space (including NBSP and ideographic
// space, common in pasted Chinese text) into one ASCII space.
func collapseSpace(s string) string {
	simple := true
	prevSpace := true
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (r != ' ' || prevSpace) {
			simple = false
			break
		}
		prevSpace = sp
	}
	if simple && !prevSpace {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
}

// truncate shortens s to at most n runes, ending with an ellipsis when it cut something. It cuts
// at the last space in the final quarter when there is one, so Latin words stay whole; Chinese
// text has no spaces and is cut at the rune.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	end, runes := 0, 0
	for i := range s {
		if runes == n-1 {
			end = i
			break
		}
		runes++
	}
	head := s[:end]
	if sp := strings.LastIndexByte(head, ' '); sp > len(head)*3/4 {
		head = head[:sp]
	}
	return strings.TrimRight(head, " ,.;:，。；：、") + "…"
}
