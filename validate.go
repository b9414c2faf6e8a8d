package syndicate

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
)

var articleIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~:@-]*$`)

// Validate checks a normalised article against the rules every door applies (see Limits).
// knownChannel reports whether a channel slug exists; the error names the first bad field.
func (a *Article) Validate(knownChannel func(string) bool, lim Limits) error {
	lim = lim.orDefault()
	switch {
	case a.ID == "":
		return FieldError("id", "is required")
	case len(a.ID) > lim.MaxIDBytes:
		return FieldError("id", "is longer than %d bytes", lim.MaxIDBytes)
	case !articleIDPattern.MatchString(a.ID):
		return FieldError("id", "%q may hold only letters, digits and . _ ~ : @ - (and must start with a letter or digit)", a.ID)
	case len(a.Channels) == 0:
		return FieldError("channels", "needs at least one channel")
	}
	for i, c := range a.Channels {
		if !knownChannel(c) {
			return FieldError("channels", "channels[%d]: unknown channel %q", i, Shorten(c, 64))
		}
	}
	for _, f := range []struct {
		name, value string
		max         int
		plain       bool // plain text: no control characters
	}{
		{"title", a.Title, lim.MaxTitleBytes, true},
		{"summary", a.Summary, lim.MaxSummaryBytes, true},
		{"content_html", a.ContentHTML, lim.MaxContentBytes, false},
		{"editor", a.Editor, lim.MaxEditorBytes, true},
		{"source", a.Source, lim.MaxSourceBytes, true},
	} {
		if err := checkText(f.name, f.value, f.max, f.plain); err != nil {
			return err
		}
	}
	if err := checkList("authors", a.Authors, lim.MaxAuthors, lim.MaxAuthorBytes); err != nil {
		return err
	}
	if err := checkList("tags", a.Tags, lim.MaxTags, lim.MaxTagBytes); err != nil {
		return err
	}
	if err := checkURL("url", a.URL, lim.MaxURLBytes); err != nil {
		return err
	}
	if err := checkURL("image_url", a.ImageURL, lim.MaxURLBytes); err != nil {
		return err
	}
	if err := checkLanguage(a.Language); err != nil {
		return err
	}
	if a.PublishedAt.IsZero() {
		return FieldError("published_at", "is required (RFC 3339, e.g. 2022-11-16T08:00:00+08:00)")
	}
	if err := lim.CheckDate("published_at", a.PublishedAt); err != nil {
		return err
	}
	if !a.UpdatedAt.IsZero() {
		if err := lim.CheckDate("updated_at", a.UpdatedAt); err != nil {
			return err
		}
		if a.UpdatedAt.Before(a.PublishedAt) {
			return FieldError("updated_at", "is before published_at")
		}
	}
	return nil
}

// checkText bounds a field's size and, for plain text, refuses control characters: XML 1.0
// cannot carry most of them at all (§2.2), and the rest (DEL, C1) are never meant as text.
func checkText(field, s string, max int, plain bool) *Error {
	if len(s) > max {
		return FieldError(field, "is %d bytes long, more than the limit of %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return FieldError(field, "is not valid UTF-8")
	}
	if !plain {
		return nil
	}
	for i, r := range s {
		if r == '\t' || r == '\n' || r == '\r' {
			continue
		}
		if unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF {
			return FieldError(field, "holds the control character %U at byte %d", r, i)
		}
	}
	return nil
}

func checkList(field string, items []string, maxItems, maxBytes int) error {
	if len(items) > maxItems {
		return FieldError(field, "has %d entries, more than the limit of %d", len(items), maxItems)
	}
	for i, s := range items {
		if err := checkText(field, s, maxBytes, true); err != nil {
			return FieldError(field, "%s[%d] %s", field, i, err.Message)
		}
	}
	return nil
}

// checkURL accepts only what every feed format can carry as a link: an absolute http(s) URL
// with a host, and none of the characters RFC 3986 §2 leaves out of URIs that would otherwise
// end up raw in an attribute (whitespace, controls, < > ").
func checkURL(field, s string, max int) error {
	if s == "" {
		return nil
	}
	if len(s) > max {
		return FieldError(field, "is %d bytes long, more than the limit of %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return FieldError(field, "is not valid UTF-8")
	}
	for i, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune(`<>"\`, r) {
			return FieldError(field, "holds %q at byte %d, which a URL may not hold unescaped", r, i)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return FieldError(field, "%q is not a URL", Shorten(s, 200))
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" || u.Opaque != "" || u.Hostname() == "" {
		return FieldError(field, "%q must be an absolute http or https URL with a host", Shorten(s, 200))
	}
	// user@host is how a link shows one site's name and opens another's; user:password@ would
	// publish a password to every reader.
	if u.User != nil {
		return FieldError(field, "%q holds user information before its host (user@ or user:password@); leave it out", Shorten(s, 200))
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return FieldError(field, "%q has port %s; a port is 1 to 65535", Shorten(s, 200), Shorten(p, 20))
		}
	}
	if _, err := ASCIIHost(u.Hostname()); err != nil {
		return FieldError(field, "%q has a host name a browser cannot look up: %v", Shorten(s, 200), err)
	}
	return nil
}

// checkLanguage accepts a well-formed BCP 47 tag (RFC 5646), which xml:lang and Atom's
// language attributes require; the character check comes first because language.Parse also
// accepts "_" and spaces in places.
func checkLanguage(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > 35 {
		return FieldError("language", "is longer than 35 bytes; use a BCP 47 tag such as zh-CN")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return FieldError("language", "%q is not a BCP 47 tag such as zh-CN (letters, digits and - only)", s)
		}
	}
	if _, err := language.Parse(s); err != nil {
		return FieldError("language", "%q is not a BCP 47 tag such as zh-CN: %v", s, err)
	}
	return nil
}
