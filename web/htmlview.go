package web

import (
	"bytes"
	"fmt"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
)

// htmlView is the page a browser gets for a feed (negotiate.go): the feed's title and items
// as HTML, with the addresses to subscribe to. It is made from the cached document itself, so
// it shows exactly what readers get, once per document version and only when someone looks. It
// is served as the site's own pages are (writePage): gzip, its own ETag, 304.
type htmlView struct {
	once sync.Once
	page *page
	err  error
}

// The view's Vary, shared between requests and never modified: the feed's URL answers with the
// view or the feed by these headers.
var varyNegotiated = []string{"Accept-Encoding, Accept, Sec-Fetch-Dest, Sec-Fetch-Mode"}

// feedViewItems bounds the items the view lists: a feed holds a channel's limit, an archive
// page a few hundred; a person reads the newest.
const feedViewItems = 100

// writeHTMLView answers a browser's request for the feed in e with its HTML view. name is the
// requested file (lingling.rss, or 2.atom on an archive page), from which the view links to the
// same document in the other formats.
func writeHTMLView(w http.ResponseWriter, r *http.Request, e *cached, name string, cacheControl []string) (int, int) {
	v := &e.view
	v.once.Do(func() { v.render(e, name, strings.Contains(r.URL.Path, "/archive/")) })
	if v.err == nil {
		return writePage(w, r, v.page, varyNegotiated, cacheControl)
	}
	// The feed parsed when it was built; this cannot fail short of a bug, which must not keep a
	// person from the feed: send it as it is.
	h := w.Header()
	h["Vary"] = varyNegotiated
	h["Cache-Control"] = cacheControl
	h["Last-Modified"] = e.lmHeader
	h["Content-Type"] = e.contentType
	body, err := e.identityBody()
	if err != nil {
		http.Error(w, "This feed cannot be shown right now.", http.StatusInternalServerError)
		return http.StatusInternalServerError, 0
	}
	h["Etag"] = e.etagHeader
	w.Write(body)
	return http.StatusOK, len(body)
}

// feedView is what templates/feedview.html shows.
type feedView struct {
	Site        syndicate.Site // Language only: the layout's <html lang>
	Title       string
	Description string
	Format      string // "RSS", "Atom" or "JSON Feed"
	Self        string // the feed's own URL, to copy into a reader
	Archive     bool   // the document is an archive page: Self is its feed's URL, not the page's
	Home        string // the channel's page
	Alternates  []link
	Feeds       []link
	Items       []item
	Hubs        []string // none: the layout's <link rel="hub"> is for the site's pages
}

func (v *htmlView) render(e *cached, name string, archive bool) {
	body, err := e.identityBody()
	if err != nil {
		v.err = err
		return
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		v.err = fmt.Errorf("web: parse feed %s for its HTML view: %w", name, err)
		return
	}
	data := feedView{
		Site:        syndicate.Site{Language: firstNonEmpty(f.Language, "zh-CN")},
		Title:       viewText(f.Title, false),
		Description: viewText(f.Description, false),
		Self:        f.FeedLink,
		Home:        f.Link,
		Archive:     archive,
	}
	if archive {
		data.Self = subscribeURL(f.FeedLink)
	}
	// Links to the same document in every format, relative to the requested one, so they
	// hold for feeds (/feeds/lingling.rss) and archive pages (/feeds/lingling/archive/2.rss).
	base := strings.TrimSuffix(name, path.Ext(name))
	for _, format := range syndicate.Formats {
		mediaType, _, _ := strings.Cut(syndicate.ContentTypes[format], ";")
		l := link{Title: formatNames[format], Href: base + "." + format, Type: mediaType}
		data.Feeds = append(data.Feeds, l)
		l.Title = data.Title + " " + l.Title
		data.Alternates = append(data.Alternates, l)
		if "."+format == path.Ext(name) {
			data.Format = formatNames[format]
		}
	}
	// RSS description and Atom summary type="html" hold escaped text, i.e. HTML; JSON Feed's
	// summary is plain text. Decoding the former once gives what the editor typed.
	isHTML := f.FeedType != "json"
	for _, it := range f.Items[:min(len(f.Items), feedViewItems)] {
		vi := item{Title: firstNonEmpty(viewText(it.Title, false), "(无标题)"), URL: it.Link, Summary: viewText(it.Description, isHTML)}
		vi.Date = itemDate(it)
		data.Items = append(data.Items, vi)
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "feedview.html", data); err != nil {
		v.err = fmt.Errorf("web: HTML view of %s: %w", name, err)
		return
	}
	// Its ETag is its own digest, never the feed's: another representation (RFC 9110 §8.8.3).
	v.page = newPage(buf.Bytes(), time.Unix(e.modUnix, 0))
}

// viewText makes a feed's text field plain for the page, which html/template escapes once.
// The feeds hold clean text already (package feed), so this only undoes the HTML escaping
// of summaries (sanitize.Line decodes once) and keeps a stray tag from becoming markup.
func viewText(s string, isHTML bool) string {
	if isHTML {
		return sanitize.Line(s)
	}
	return sanitize.Plain(s)
}

// itemDate returns when an item was published, in the offset the feed wrote it in (the site's
// time zone): gofeed's parsed times are in UTC for some formats.
func itemDate(it *gofeed.Item) time.Time {
	for _, layout := range []string{time.RFC3339, time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, it.Published); err == nil {
			return t
		}
	}
	switch {
	case it.PublishedParsed != nil:
		return *it.PublishedParsed
	case it.UpdatedParsed != nil:
		return *it.UpdatedParsed
	}
	return time.Time{}
}

// subscribeURL is the address a reader should subscribe to for the document whose self link is
// self. An archive page (/feeds/lingling/archive/3.atom) never changes: subscribed to, it would
// never show a new story, so its page names the feed it belongs to (/feeds/lingling.atom).
// JSON Feed archive pages already carry the feed's URL as feed_url.
func subscribeURL(self string) string {
	i := strings.LastIndex(self, "/archive/")
	if i < 0 {
		return self
	}
	return self[:i] + path.Ext(self)
}
