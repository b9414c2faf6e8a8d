package syndicate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Article is one story as editors store it. ID is chosen by the caller and never changes; every
// feed item and event derived from the article carries an id computed from it (see Site.ItemID).
type Article struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary,omitempty"`
	ContentHTML string    `json:"content_html,omitempty"`
	URL         string    `json:"url,omitempty"`
	Authors     []string  `json:"authors,omitempty"`
	Editor      string    `json:"editor,omitempty"`
	Source      string    `json:"source,omitempty"`
	Channels    []string  `json:"channels"`
	Tags        []string  `json:"tags,omitempty"`
	ImageURL    string    `json:"image_url,omitempty"`
	Language    string    `json:"language,omitempty"`
	PublishedAt time.Time `json:"published_at"`
	UpdatedAt   time.Time `json:"updated_at,omitempty"`
	// StoredHash is the content hash the store saved with the article (its Hash then), set on
	// the articles builds read so that they need not hash every item again. It is not part of
	// the article: empty elsewhere, never encoded, and never read by Hash.
	StoredHash string `json:"-"`
	// Sanitized is ContentHTML as the feeds' HTML policy left it (package sanitize), made when the
	// article was imported and kept by the store beside the original, which stays as it came.
	// Like StoredHash it is not part of the article: never encoded, never read by Hash.
	Sanitized Sanitized `json:"-"`
}

// Sanitized is an article's content after an HTML policy: Policy names the policy, HTML is the
// result. The zero value means the content was never sanitised.
type Sanitized struct {
	Policy string
	HTML   string
}

// MaxArticleIDLen bounds article ids: they appear in URLs, tag URIs and NATS message ids.
const MaxArticleIDLen = 200

var articleIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~:@-]*$`)

// Validate checks the fields a stored article must have. knownChannel reports whether a channel
// slug exists; the error names the first bad field.
func (a *Article) Validate(knownChannel func(string) bool) error {
	switch {
	case a.ID == "":
		return FieldError("id", "is required")
	case len(a.ID) > MaxArticleIDLen:
		return FieldError("id", "is longer than %d bytes", MaxArticleIDLen)
	case !articleIDPattern.MatchString(a.ID):
		return FieldError("id", "%q may hold only letters, digits and . _ ~ : @ - (and must start with a letter or digit)", a.ID)
	case len(a.Channels) == 0:
		return FieldError("channels", "needs at least one channel")
	}
	for i, c := range a.Channels {
		if !knownChannel(c) {
			return FieldError("channels", "channels[%d]: unknown channel %q", i, c)
		}
	}
	for _, f := range []struct{ name, value string }{
		{"title", a.Title}, {"summary", a.Summary}, {"content_html", a.ContentHTML}, {"url", a.URL},
		{"editor", a.Editor}, {"source", a.Source}, {"image_url", a.ImageURL}, {"language", a.Language},
	} {
		if !utf8.ValidString(f.value) {
			return FieldError(f.name, "is not valid UTF-8")
		}
	}
	if a.PublishedAt.IsZero() {
		return FieldError("published_at", "is required (RFC 3339, e.g. 2022-11-16T08:00:00+08:00)")
	}
	if !a.UpdatedAt.IsZero() && a.UpdatedAt.Before(a.PublishedAt) {
		return FieldError("updated_at", "is before published_at")
	}
	return nil
}

// Normalize trims and de-duplicates list fields and fills UpdatedAt, so that two submissions of the
// same story hash the same.
func (a *Article) Normalize() {
	a.ID = strings.TrimSpace(a.ID)
	a.Title = strings.TrimSpace(a.Title)
	a.URL = strings.TrimSpace(a.URL)
	a.Channels = uniqueTrimmed(a.Channels)
	a.Tags = uniqueTrimmed(a.Tags)
	a.Authors = uniqueTrimmed(a.Authors)
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.PublishedAt
	}
	a.PublishedAt = a.PublishedAt.Round(time.Second)
	a.UpdatedAt = a.UpdatedAt.Round(time.Second)
}

func uniqueTrimmed(in []string) []string {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// Hash is a digest of everything a reader or an aggregator sees of the article. An upsert whose
// hash equals the stored one changes nothing and emits no event.
func (a *Article) Hash() string {
	c := *a
	c.StoredHash, c.Sanitized = "", Sanitized{}
	c.PublishedAt = c.PublishedAt.UTC()
	c.UpdatedAt = c.UpdatedAt.UTC()
	b, err := json.Marshal(c)
	if err != nil {
		panic("syndicate: marshal article: " + err.Error()) // only plain fields: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// InChannel reports whether the article is filed directly in the channel.
func (a *Article) InChannel(slug string) bool { return slices.Contains(a.Channels, slug) }
