package syndicate

import (
	"net/url"
	"strings"
)

// Formats served for every channel, by file extension.
const (
	FormatRSS  = "rss"
	FormatAtom = "atom"
	FormatJSON = "json"
)

// SiteFeed is the slug of the site-wide feed: every channel's newest items, built like a channel
// but announcing no events (each channel announces its own). No channel may use it.
const SiteFeed = "all"

// Formats lists every feed format in a fixed order.
var Formats = []string{FormatRSS, FormatAtom, FormatJSON}

// ContentTypes maps a feed format to the Content-Type it is served with.
var ContentTypes = map[string]string{
	FormatRSS:  "application/rss+xml; charset=utf-8",
	FormatAtom: "application/atom+xml; charset=utf-8",
	FormatJSON: "application/feed+json; charset=utf-8",
}

// Site describes the portal as feeds show it.
type Site struct {
	Title       string
	Description string
	BaseURL     string // absolute, without a trailing slash
	Language    string
	Timezone    string
	// TagDate is the date part of the tag: URIs (RFC 4151) that identify items. It is part of
	// every item id, so it must never change once feeds are public.
	TagDate string
}

// Host returns the host of BaseURL (without port), the authority of item tag URIs.
func (s Site) Host() string {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Hostname() == "" {
		return "localhost"
	}
	return u.Hostname()
}

// ItemID is the stable id of an article in every feed format and in every event: a tag URI built
// from the site's host and the article's stored id. It never depends on content or build time.
func (s Site) ItemID(articleID string) string {
	return "tag:" + s.Host() + "," + s.TagDate + ":article/" + articleID
}

// FeedID is the stable id of a channel's feed document in one format.
func (s Site) FeedID(slug, format string) string {
	return "tag:" + s.Host() + "," + s.TagDate + ":feed/" + slug + "." + format
}

// FeedURL returns the public URL of slug's feed in format.
func (s Site) FeedURL(slug, format string) string {
	return s.BaseURL + "/feeds/" + url.PathEscape(slug) + "." + format
}

// ChannelURL returns the public HTML page of a channel.
func (s Site) ChannelURL(slug string) string {
	return s.BaseURL + "/channels/" + url.PathEscape(slug)
}

// ArticleURL returns the article's own URL, or Syndicate's page for it when it has none.
func (s Site) ArticleURL(a *Article) string {
	if a.URL != "" {
		return a.URL
	}
	return s.BaseURL + "/articles/" + url.PathEscape(a.ID)
}

// TrimBaseURL normalises a configured base URL.
func TrimBaseURL(u string) string { return strings.TrimRight(strings.TrimSpace(u), "/") }
