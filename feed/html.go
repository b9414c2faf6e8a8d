package feed

import (
	"bytes"
	"net/url"
	"strings"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
	"golang.org/x/net/html"
)

// safeContent returns the article's content safe to embed in any feed: allowed markup only
// (sanitised once when the article was imported, see package sanitize), relative links made
// absolute against base (readers show the content away from our site, where a relative URL
// resolves against the feed or not at all), and no character XML forbids.
func safeContent(a *syndicate.Article, base *url.URL) string {
	s := sanitize.Current(a)
	if s.HTML == "" {
		return ""
	}
	// Content that sanitises to markup alone ("<p><script>…</script></p>" leaves "<p></p>")
	// shows nothing: treat it as none, so the fallbacks (summary, JSON Feed content_text) apply.
	if !strings.Contains(s.HTML, "<img") && textFromHTML(s.HTML, 1) == "" {
		return ""
	}
	// Cleaning after sanitising as well: bluemonday decodes &#1; into a raw U+0001.
	return sanitize.Text(absolutize(s.HTML, base))
}

// urlAttrs are the URL-valued attributes the policy lets through (bluemonday's linkable
// elements: a, area and blockquote/q/del/ins cite, img src).
var urlAttrs = map[string]bool{"href": true, "src": true, "cite": true}

// absolutize rewrites relative URLs in sanitised HTML. Tokens it does not change are copied
// byte for byte, so the pass is cheap and changes nothing else.
func absolutize(s string, base *url.URL) string {
	if base == nil || !(strings.Contains(s, "href=") || strings.Contains(s, "src=") || strings.Contains(s, "cite=")) {
		return s
	}
	var out bytes.Buffer
	out.Grow(len(s) + 64)
	var raw []byte
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF: the input is an in-memory string
		}
		raw = append(raw[:0], z.Raw()...) // Token() may rewrite the buffer Raw() points into
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			out.Write(raw)
			continue
		}
		tok := z.Token()
		changed := false
		for i, a := range tok.Attr {
			if !urlAttrs[a.Key] || isAbsoluteURL(a.Val) {
				continue
			}
			if u, err := base.Parse(a.Val); err == nil {
				tok.Attr[i].Val = u.String()
				changed = true
			}
		}
		if changed {
			// html.Token.String writes a quote as "&#34;", which feedparser misreads in an
			// attribute (see sanitize.HTML); "&quot;" is the same character to every parser.
			out.WriteString(strings.ReplaceAll(tok.String(), "&#34;", "&quot;"))
		} else {
			out.Write(raw)
		}
	}
	return out.String()
}

func isAbsoluteURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "mailto:")
}

// blockElements end a line of text; textFromHTML puts a space there so that "<p>a</p><p>b</p>"
// reads "a b", not "ab".
var blockElements = map[string]bool{
	"p": true, "br": true, "div": true, "li": true, "tr": true, "td": true, "th": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true,
	"figcaption": true, "pre": true, "hr": true, "section": true, "article": true,
}

// textFromHTML returns the visible text of an HTML fragment as one line, at most n runes. It is
// the fallback for a missing summary or title.
func textFromHTML(s string, n int) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0
	for b.Len() < n*4+64 { // n runes are at most 4n bytes; stop reading a long article early
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return visibleText(b.String(), n)
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "template", "noscript":
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			default:
				if blockElements[string(name)] {
					b.WriteByte(' ')
				}
			}
		}
	}
	return visibleText(b.String(), n)
}

// visibleText finishes textFromHTML. The tokenizer has decoded the entities already, so this is
// sanitize.Plain, not Line: decoding twice would turn a visible "&lt;" into "<". Tag-like text
// is still stripped, as in every plain-text field.
func visibleText(s string, n int) string {
	return truncate(sanitize.Plain(s), n)
}
