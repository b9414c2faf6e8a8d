package feed

import (
	"net/url"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
)

// ForEvent returns a copy of a whose fields an item event carries (syndicate.NewItemEvent) say
// what the feed item announcing the same change says: title, summary, authors and tags as plain
// text with the item's fallbacks, the link and image written as in the feeds (ASCII hosts, http
// and https only). An aggregator that shows an event's title then shows the feed's, never the
// markup or entities an editor typed. Ids, channels and dates are left as stored.
func ForEvent(site syndicate.Site, a *syndicate.Article) *syndicate.Article {
	base, _ := url.Parse(site.BaseURL)
	c := *a
	link, ok := httpURL(base, site.ArticleURL(a))
	if !ok { // as newItem: a link no reader can open becomes the site's own page
		link, _ = httpURL(base, site.ArticleURL(&syndicate.Article{ID: a.ID}))
	}
	c.URL = link
	linkURL, _ := url.Parse(link)
	c.Title, c.Summary = itemText(a, func() string { return safeContent(a, linkURL) })
	c.Authors = itemAuthors(a)
	c.Tags = nil
	for _, t := range a.Tags {
		c.Tags = appendUnique(c.Tags, sanitize.Line(t))
	}
	c.ImageURL, _ = httpURL(linkURL, a.ImageURL)
	return &c
}
