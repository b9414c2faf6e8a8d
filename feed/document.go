package feed

import (
	"fmt"
	"html"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // dates are rendered in Site.Timezone; a replica without zoneinfo files must render the same bytes

	"github.com/gorilla/feeds"
	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
)

// Limits and fallbacks of the text hygiene.
const (
	untitled       = "(无标题)"
	maxTitleRunes  = 500 // a longer "title" is a paste accident; readers show one line
	fallbackTitle  = 40  // runes of summary used as a missing title
	summaryRunes   = 140 // runes of content text used as a missing summary
	defaultMIMEImg = "image/jpeg"
)

// document is the cleaned, format-neutral feed every encoder starts from.
type document struct {
	site        syndicate.Site
	slug        string
	title       string
	description string // may be empty
	link        string // the channel's HTML page
	language    string
	categories  []string // titles along the channel's own path
	updated     time.Time
	ttlMinutes  int
	hubs        []string
	stylesheet  map[string]string
	icon, logo  string
	archive     Archive
	items       []item
	base        *feeds.Feed // the same content in gorilla's generic model
}

// item is one cleaned article.
type item struct {
	id, link   string
	title      string // plain text
	summary    string // plain text
	content    string // sanitised HTML
	authors    []string
	editor     string
	source     string
	categories []string
	image      string
	imageType  string
	language   string // set only when it differs from the feed's
	published  time.Time
	updated    time.Time
}

// prepare validates and cleans in. Everything the three encoders share is done here, once.
func prepare(in Input) (*document, error) {
	base, err := url.Parse(in.Site.BaseURL)
	if err != nil || base.Host == "" || (base.Scheme != "http" && base.Scheme != "https") {
		return nil, fmt.Errorf("feed: site base URL %q is not an absolute http(s) URL", in.Site.BaseURL)
	}
	if !syndicate.ValidSlug(in.Channel.Slug) {
		return nil, fmt.Errorf("feed: channel slug %q is not valid", in.Channel.Slug)
	}
	if a := in.Archive; a.Page < 0 || a.Pages < 0 || a.Page > a.Pages {
		return nil, fmt.Errorf("feed: archive page %d of %d complete pages does not exist", a.Page, a.Pages)
	}
	loc, err := Location(in.Site.Timezone)
	if err != nil {
		return nil, fmt.Errorf("feed: site timezone %q: %w", in.Site.Timezone, err)
	}
	site := in.Site
	siteTitle := sanitize.Line(site.Title)
	chTitle := sanitize.Line(in.Channel.Title)
	if chTitle == "" {
		chTitle = in.Channel.Slug
	}
	d := &document{
		site:       site,
		slug:       in.Channel.Slug,
		title:      chTitle,
		link:       site.ChannelURL(in.Channel.Slug),
		language:   sanitize.Text(strings.TrimSpace(site.Language)),
		ttlMinutes: int((max(in.TTL, 0) + time.Minute - 1) / time.Minute), // rounded up: 30s is <ttl>1</ttl>, not none
		stylesheet: in.Stylesheet,
		icon:       site.BaseURL + "/favicon.ico",
		logo:       site.BaseURL + "/logo.png",
		archive:    in.Archive,
	}
	if siteTitle != "" && siteTitle != chTitle {
		d.title = chTitle + " - " + siteTitle
	}
	if in.Channel.Slug == syndicate.SiteFeed {
		d.link = site.BaseURL + "/" // the site-wide feed has no channel page: its page is the portal's
	}
	// Optional in Atom and JSON Feed, so they get none rather than the title again; RSS, where
	// <description> is required, falls back to the title (see encodeRSS).
	d.description = firstNonEmpty(sanitize.Line(in.Channel.Description), sanitize.Line(site.Description))
	for _, h := range in.Hubs {
		if u, ok := httpURL(base, h); ok && !slices.Contains(d.hubs, u) {
			d.hubs = append(d.hubs, u)
		}
	}
	titles := pathTitles{tree: in.Tree, cache: map[string][]string{}}
	d.categories = titles.of(in.Channel.Slug)

	seen := make(map[string]bool, len(in.Items))
	for i := range in.Items {
		a := &in.Items[i]
		if seen[a.ID] {
			continue // a duplicate id makes readers drop or flicker one of the two
		}
		seen[a.ID] = true
		d.items = append(d.items, newItem(site, base, loc, d.language, &titles, a))
	}

	d.updated = in.Updated
	if d.updated.IsZero() {
		for _, it := range d.items {
			if it.updated.After(d.updated) {
				d.updated = it.updated
			}
		}
	}
	// No clock here (see the package doc): an empty feed without a time gets the epoch.
	d.updated = d.updated.In(loc).Truncate(time.Second)
	if d.updated.IsZero() {
		d.updated = time.Unix(0, 0).In(loc)
	}
	for i := range d.items {
		if d.items[i].published.IsZero() {
			d.items[i].published, d.items[i].updated = d.updated, d.updated
		}
	}
	d.base = d.gorilla()
	return d, nil
}

func newItem(site syndicate.Site, base *url.URL, loc *time.Location, lang string, titles *pathTitles, a *syndicate.Article) item {
	// The same id as the item events carry (syndicate.NewItemEvent): site.ItemID of the stored id.
	it := item{id: sanitize.Text(site.ItemID(a.ID))}
	link, ok := httpURL(base, site.ArticleURL(a))
	if !ok { // e.g. a javascript: URL, or garbage: fall back to Syndicate's own page
		link = site.ArticleURL(&syndicate.Article{ID: a.ID})
		link, _ = httpURL(base, link)
	}
	it.link = link
	linkURL, _ := url.Parse(link)

	it.content = safeContent(a, linkURL)
	it.title, it.summary = itemText(a, func() string { return it.content })
	it.authors = itemAuthors(a)
	it.editor = sanitize.Line(a.Editor)
	it.source = sanitize.Line(a.Source)
	for _, ch := range a.Channels {
		it.categories = appendUnique(it.categories, titles.of(ch)...)
	}
	for _, t := range a.Tags {
		it.categories = appendUnique(it.categories, sanitize.Line(t))
	}
	if img, ok := httpURL(linkURL, a.ImageURL); ok {
		it.image, it.imageType = img, imageType(img)
	}
	if l := sanitize.Text(strings.TrimSpace(a.Language)); l != "" && !strings.EqualFold(l, lang) {
		it.language = l
	}

	it.published = a.PublishedAt
	it.updated = a.UpdatedAt
	if it.published.IsZero() {
		it.published = it.updated
	}
	if it.updated.Before(it.published) {
		it.updated = it.published
	}
	it.published = it.published.In(loc).Truncate(time.Second)
	it.updated = it.updated.In(loc).Truncate(time.Second)
	return it
}

// sizeHint estimates an encoded document's length: the items' text, plus what escaping the HTML
// and the markup around it add.
func (d *document) sizeHint() int {
	n := 4096
	for i := range d.items {
		it := &d.items[i]
		n += len(it.content) + len(it.summary) + len(it.title) + 2*len(it.link) + 512
	}
	return n + n/8
}

// gorilla expresses d in gorilla/feeds' generic model, which every encoder converts and extends.
// Item.Author stays nil: gorilla can hold one author only and writes it to RSS as a bare name,
// which RSS 2.0 reserves for an e-mail address; the encoders add every author themselves.
func (d *document) gorilla() *feeds.Feed {
	f := &feeds.Feed{
		Title:       d.title,
		Link:        &feeds.Link{Href: d.link},
		Description: d.description,
		Author:      &feeds.Author{Name: firstNonEmpty(sanitize.Line(d.site.Title), d.site.Host())},
		Updated:     d.updated,
		Image:       &feeds.Image{Url: d.logo, Title: d.title, Link: d.link},
		Items:       make([]*feeds.Item, 0, len(d.items)),
	}
	for i := range d.items {
		it := &d.items[i]
		gi := &feeds.Item{
			Title:       it.title,
			Link:        &feeds.Link{Href: it.link},
			Description: it.summary,
			Id:          it.id,
			IsPermaLink: "false", // a tag: URI is not a URL (RSS 2.0 <guid>)
			Created:     it.published,
			Updated:     it.updated,
			Content:     it.content,
		}
		if it.id == it.link {
			gi.IsPermaLink = "true"
		}
		if it.image != "" {
			// RSS 2.0 requires length; "0" when unknown, as the RSS Advisory Board's best
			// practices profile allows. We never fetch the image: rendering stays offline.
			gi.Enclosure = &feeds.Enclosure{Url: it.image, Length: "0", Type: it.imageType}
		}
		f.Items = append(f.Items, gi)
	}
	return f
}

// itemText returns the title and summary an item shows of a: plain text (sanitize.Line), a
// missing summary taken from the content's text (content is called only then), a missing title
// from the summary, and a missing summary from the title: readers show both.
func itemText(a *syndicate.Article, content func() string) (title, summary string) {
	summary = sanitize.Line(a.Summary)
	if summary == "" {
		if c := content(); c != "" {
			summary = textFromHTML(c, summaryRunes)
		}
	}
	title = truncate(sanitize.Line(a.Title), maxTitleRunes)
	if title == "" {
		title = firstNonEmpty(truncate(summary, fallbackTitle), untitled)
	}
	if summary == "" {
		summary = title
	}
	return title, summary
}

// itemAuthors returns a's authors as plain text, each once.
func itemAuthors(a *syndicate.Article) []string {
	var out []string
	for _, s := range a.Authors {
		if s = sanitize.Line(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// htmlText escapes plain text for the elements readers treat as HTML (RSS description, Atom
// summary type="html"), so that "a < b" is not read as a tag.
func htmlText(s string) string { return html.EscapeString(s) }

// httpURL resolves raw against base and accepts only http and https results, written as a URI:
// the host in ASCII (syndicate.ASCIIHost), as readers' HTTP clients need it (url.URL.String
// would percent-encode an internationalised one, which no resolver understands), the path and
// query percent-encoded. User information,
// refused at input since, is left out of links saved before.
func httpURL(base *url.URL, raw string) (string, bool) {
	raw = strings.TrimSpace(sanitize.Text(raw))
	if raw == "" || base == nil {
		return "", false
	}
	u, err := base.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	u.User = nil
	if name := u.Hostname(); name != "" {
		if ascii, err := syndicate.ASCIIHost(name); err == nil && ascii != name {
			u.Host = strings.Replace(u.Host, name, ascii, 1)
		}
	}
	u.RawQuery = escapeNonASCII(u.RawQuery) // String writes it as it is; the path it escapes
	return u.String(), true
}

// escapeNonASCII percent-encodes every byte of s outside ASCII, so that a link is a URI (RFC
// 3986), as event schemas and strict clients require, and not only an IRI.
func escapeNonASCII(s string) string {
	i := 0
	for i < len(s) && s[i] < 0x80 {
		i++
	}
	if i == len(s) {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+16)
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if c := s[i]; c >= 0x80 {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// imageTypes maps lead-image extensions to MIME types. A fixed table rather than
// mime.TypeByExtension, which reads the host's mime.types and so could differ between replicas.
var imageTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".jpe": "image/jpeg", ".png": "image/png",
	".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".svg": "image/svg+xml",
	".bmp": "image/bmp", ".ico": "image/x-icon", ".tif": "image/tiff", ".tiff": "image/tiff",
}

// imageType guesses a MIME type from the URL path. Without a known extension it says JPEG: a
// news lead image usually is one, and readers show an enclosure inline only for an image type.
func imageType(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return defaultMIMEImg
	}
	if t, ok := imageTypes[strings.ToLower(path.Ext(u.Path))]; ok {
		return t
	}
	return defaultMIMEImg
}

// pathTitles memoises the category titles of channel paths within one render.
type pathTitles struct {
	tree  *syndicate.Tree
	cache map[string][]string
}

func (p *pathTitles) of(slug string) []string {
	if p.tree == nil {
		return nil
	}
	if t, ok := p.cache[slug]; ok {
		return t
	}
	var titles []string
	for _, s := range p.tree.Path(slug) {
		c, _ := p.tree.Channel(s)
		titles = appendUnique(titles, firstNonEmpty(sanitize.Line(c.Title), s))
	}
	p.cache[slug] = titles
	return titles
}

func appendUnique(list []string, add ...string) []string {
	for _, s := range add {
		if s != "" && !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// locations caches loaded zones: time.LoadLocation parses zoneinfo on every call, and a tick
// renders and checks every channel.
var locations sync.Map // name -> *time.Location

// Location returns the named time zone (UTC for ""), loaded once per process. The renderer, the
// build's date checks and the web pages all use it, so they agree on the zone.
func Location(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}
