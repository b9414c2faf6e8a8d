package feed

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yongzhou-news/syndicate/sanitize"
)

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
	return sanitize.Text(collapseSpace(s))
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
