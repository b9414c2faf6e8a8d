package sanitize

import (
	"html"
	"regexp"
	"strings"
	"unicode"
)

// tagPattern matches things that look like HTML tags or comments. Titles, names and summaries
// are plain text by contract, but editors paste markup into them; a lone "<" as in "1<2" is left
// alone.
var tagPattern = regexp.MustCompile(`(?s)<(?:!--.*?-->|[A-Za-z/!?][^<>]*>)`)

// maxStripPasses bounds StripTags on nested input such as "<scr<script>ipt>", where removing one
// tag reveals another. Each pass removes at least one tag, so a few suffice for anything an
// editor types; input nested deeper than that is built to get a tag through, and loses every
// angle bracket instead.
const maxStripPasses = 8

// Line turns a plain-text field (a title, an author, a tag, a channel name) into one line of
// text that is safe for every output format once the encoder escapes it.
//
// The order matters. Entities are decoded once, first: "&lt;script&gt;" is markup written as
// entities, and decoding after stripping (as before issue #13) turned it into a live <script>
// in RSS titles. Tags are stripped next, then white space collapsed, then characters XML
// forbids dropped (decoding "&#1;" yields one), and bidi embeddings left open closed
// (BalanceBidi). Decoding only once is deliberate: an editor
// who typed "&lt;" (stored as "&amp;lt;") sees "&lt;", not "<".
func Line(s string) string {
	if strings.ContainsRune(s, '&') {
		s = html.UnescapeString(s)
	}
	return Plain(s)
}

// Plain is Line for text whose entities are decoded already (by an HTML tokenizer, or by a
// caller that unescaped it once): decoding again would turn a visible "&lt;" into "<".
func Plain(s string) string {
	return BalanceBidi(Text(CollapseSpace(StripTags(s))))
}

// StripTags replaces everything in s that looks like a tag or a comment with a space, until
// nothing tag-like is left. After maxStripPasses passes, if something tag-like is still there,
// every "<" and ">" becomes a space: the result never holds a tag.
func StripTags(s string) string {
	for i := 0; i < maxStripPasses && strings.ContainsRune(s, '<'); i++ {
		t := tagPattern.ReplaceAllString(s, " ")
		if t == s {
			return s
		}
		s = t
	}
	if tagPattern.MatchString(s) {
		s = angleBrackets.Replace(s)
	}
	return s
}

var angleBrackets = strings.NewReplacer("<", " ", ">", " ")

// CollapseSpace trims s and turns every run of white space (including NBSP and ideographic
// space, common in pasted Chinese text) into one ASCII space.
func CollapseSpace(s string) string {
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
