package syndicate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"
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

// uniqueTrimmed keeps the first of each value; a set, not a scan of the output, because a
// record may bring a million entries before Validate refuses the list.
func uniqueTrimmed(in []string) []string {
	var out []string
	seen := make(map[string]bool, min(len(in), 64))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Hash is a digest of everything a reader or an aggregator sees of the article. An upsert whose
// hash equals the stored one changes nothing and emits no event.
//
// It encodes hashedArticle, whose times are strings in the layout Time.MarshalJSON writes, so
// the bytes (and every stored hash) are those of encoding the Article itself, but a time whose
// year has five digits cannot make it panic.
func (a *Article) Hash() string {
	h := hashedArticle{
		ID: a.ID, Title: a.Title, Summary: a.Summary, ContentHTML: a.ContentHTML, URL: a.URL,
		Authors: a.Authors, Editor: a.Editor, Source: a.Source, Channels: a.Channels, Tags: a.Tags,
		ImageURL: a.ImageURL, Language: a.Language,
		PublishedAt: a.PublishedAt.UTC().Format(time.RFC3339Nano),
		UpdatedAt:   a.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
	b, err := json.Marshal(h)
	if err != nil {
		panic("syndicate: marshal article: " + err.Error()) // strings and slices only: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// hashedArticle is Article as Hash encodes it: the same keys in the same order.
type hashedArticle struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Summary     string   `json:"summary,omitempty"`
	ContentHTML string   `json:"content_html,omitempty"`
	URL         string   `json:"url,omitempty"`
	Authors     []string `json:"authors,omitempty"`
	Editor      string   `json:"editor,omitempty"`
	Source      string   `json:"source,omitempty"`
	Channels    []string `json:"channels"`
	Tags        []string `json:"tags,omitempty"`
	ImageURL    string   `json:"image_url,omitempty"`
	Language    string   `json:"language,omitempty"`
	PublishedAt string   `json:"published_at"`
	UpdatedAt   string   `json:"updated_at"`
}

// InChannel reports whether the article is filed directly in the channel.
func (a *Article) InChannel(slug string) bool { return slices.Contains(a.Channels, slug) }
