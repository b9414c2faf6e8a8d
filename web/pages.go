package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
)

var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static/copy.js
	copyJS []byte
)

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// DirectoryItems is how many newest items the directory shows per channel.
const DirectoryItems = 5

type link struct{ Title, Href, Type string }

type item struct {
	Title, URL, Summary string
	Date                time.Time
}

type node struct {
	Channel  syndicate.Channel
	Href     string
	Feeds    []link
	Items    []item
	Children []node
}

type pageData struct {
	Site       syndicate.Site
	Title      string
	Alternates []link
	SiteFeeds  []link
	Nodes      []node
	Node       node
	Article    syndicate.Article
	Content    template.HTML
	Hubs       []string // WebSub hubs, advertised as <link rel="hub">
}

var formatNames = map[string]string{syndicate.FormatRSS: "RSS", syndicate.FormatAtom: "Atom", syndicate.FormatJSON: "JSON Feed"}

func (s *Server) feedLinks(slug, title string) []link {
	var out []link
	for _, f := range syndicate.Formats {
		// Autodiscovery wants the bare media type, without charset.
		mediaType, _, _ := strings.Cut(syndicate.ContentTypes[f], ";")
		out = append(out, link{Title: title + formatNames[f], Href: s.site.FeedURL(slug, f), Type: mediaType})
	}
	return out
}

// items returns the newest n items of a channel's subtree for display.
func (s *Server) items(ctx context.Context, slug string, n int) ([]item, error) {
	arts, err := s.store.NewestItems(ctx, s.tree.Subtree(slug), n)
	if err != nil {
		return nil, err
	}
	out := make([]item, 0, len(arts))
	for i := range arts {
		a := &arts[i]
		title := sanitize.Line(a.Title)
		if title == "" {
			title = "(无标题)"
		}
		out = append(out, item{Title: title, URL: s.site.ArticleURL(a), Summary: sanitize.Line(a.Summary),
			Date: a.PublishedAt.In(s.pages.zone)})
	}
	return out, nil
}

// nodes returns parent's children, each with its newest items and its own children, and when
// their feed documents last changed.
func (s *Server) nodes(ctx context.Context, parent string) ([]node, time.Time, error) {
	var out []node
	var newest time.Time
	for _, slug := range s.tree.Children(parent) {
		c, _ := s.tree.Channel(slug)
		items, err := s.items(ctx, slug, DirectoryItems)
		if err != nil {
			return nil, time.Time{}, err
		}
		children, tc, err := s.nodes(ctx, slug)
		if err != nil {
			return nil, time.Time{}, err
		}
		newest = latest(newest, tc, s.documentsModified(slug))
		out = append(out, node{Channel: plainChannel(c), Href: s.site.ChannelURL(slug), Feeds: s.feedLinks(slug, ""), Items: items, Children: children})
	}
	return out, newest, nil
}

// documentsModified is when the channel's served feed documents last changed (zero before its
// first build): a page's Last-Modified moves with the builds that change it, as the feeds' does.
// Article dates do not count: published_at may lie up to a day ahead, and a Last-Modified in the
// future (RFC 9110 §8.8.2) would answer 304 to an edit revalidated by date.
func (s *Server) documentsModified(slug string) time.Time {
	var t time.Time
	for _, f := range syndicate.Formats {
		if e, ok := s.cache.get(slug + "." + f); ok {
			t = latest(t, time.Unix(e.modUnix, 0))
		}
	}
	return t
}

func latest(ts ...time.Time) time.Time {
	var t time.Time
	for _, v := range ts {
		if v.After(t) {
			t = v
		}
	}
	return t
}

// renderTimeout bounds a page render, which outlives the request that started it: the page is
// cached for the requests that follow, and they must not fail because the first client left.
const renderTimeout = 10 * time.Second

// directoryPage answers GET and HEAD /: the channel tree in configuration order, each channel
// with its newest items and subscribe links, and autodiscovery of the site-wide feed. It is
// rendered once per build that changes it (pagecache.go), from stored data only, so every
// replica serves the same bytes for the same store state.
func (s *Server) directoryPage(w http.ResponseWriter, r *http.Request) {
	p, err := s.pages.get(directoryKey, func() (*page, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), renderTimeout)
		defer cancel()
		nodes, newest, err := s.nodes(ctx, "")
		if err != nil {
			return nil, err
		}
		title := sanitize.Line(s.site.Title)
		return s.renderPage("directory.html", pageData{Title: title, Nodes: nodes, SiteFeeds: s.feedLinks(syndicate.SiteFeed, ""),
			Alternates: s.feedLinks(syndicate.SiteFeed, title+" ")}, latest(newest, s.documentsModified(syndicate.SiteFeed)))
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writePage(w, r, p, pageVary, pageCacheControl)
}

// channelPage answers GET and HEAD /channels/{slug}, cached like the directory.
func (s *Server) channelPage(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	c, ok := s.tree.Channel(slug)
	if !ok {
		http.NotFound(w, r)
		return
	}
	p, err := s.pages.get(slug, func() (*page, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), renderTimeout)
		defer cancel()
		items, err := s.items(ctx, slug, c.Limit)
		if err != nil {
			return nil, err
		}
		c := plainChannel(c)
		n := node{Channel: c, Href: s.site.ChannelURL(slug), Feeds: s.feedLinks(slug, ""), Items: items}
		return s.renderPage("channel.html", pageData{Title: pageTitle(c.Title, s.site.Title), Node: n,
			Alternates: s.feedLinks(slug, c.Title+" ")}, s.documentsModified(slug))
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writePage(w, r, p, pageVary, pageCacheControl)
}

// articlePage answers GET /articles/{id}, the link of items whose article has no URL of its own.
func (s *Server) articlePage(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.Article(r.Context(), r.PathValue("id"))
	if err != nil {
		if syndicate.ErrorCode(err) == syndicate.ENOTFOUND {
			http.NotFound(w, r)
			return
		}
		s.fail(w, r, err)
		return
	}
	var alts []link
	for _, c := range a.Channels {
		if ch, ok := s.tree.Channel(c); ok {
			alts = append(alts, s.feedLinks(c, sanitize.Line(ch.Title)+" ")...)
		}
	}
	a = plainArticle(a)
	// The feeds' policy (package sanitize), so the page shows what readers get: Chinese alt
	// captions kept, no rel="nofollow"; the stored result when it was made under that policy.
	content := sanitize.Current(&a).HTML
	s.render(w, r, "article.html", pageData{
		Title: pageTitle(a.Title, s.site.Title), Article: a, Alternates: alts,
		Content: template.HTML(content), // sanitised just above
	})
}

// Text on the pages goes through sanitize.Line, as in the feeds, and html/template escapes it
// once. Titles arrive with entities ("&lt;", "&quot;"): escaping them as they were showed
// "&lt;" on screen, and bluemonday's StrictPolicy, which escapes its output, doubled it again
// inside the template.

func pageTitle(title, site string) string {
	site = sanitize.Line(site)
	if title == "" || title == site {
		return site
	}
	return title + " - " + site
}

func plainChannel(c syndicate.Channel) syndicate.Channel {
	c.Title = firstNonEmpty(sanitize.Line(c.Title), c.Slug)
	c.Description = sanitize.Line(c.Description)
	return c
}

func plainArticle(a syndicate.Article) syndicate.Article {
	a.Title = firstNonEmpty(sanitize.Line(a.Title), "(无标题)")
	a.Source = sanitize.Line(a.Source)
	authors := make([]string, 0, len(a.Authors))
	for _, name := range a.Authors {
		if name = sanitize.Line(name); name != "" {
			authors = append(authors, name)
		}
	}
	a.Authors = authors
	return a
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// execute runs a page template with the site's plain-text title and description.
func (s *Server) execute(name string, data pageData) ([]byte, error) {
	data.Site = s.site
	data.Hubs = s.hubs
	data.Site.Title = sanitize.Line(s.site.Title)
	data.Site.Description = sanitize.Line(s.site.Description)
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		return nil, fmt.Errorf("web: render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// renderPage renders a cacheable page; modified is the newest change it shows.
func (s *Server) renderPage(name string, data pageData, modified time.Time) (*page, error) {
	body, err := s.execute(name, data)
	if err != nil {
		return nil, err
	}
	return newPage(trim(body), modified), nil
}

// render answers with a page rendered for this request alone.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data pageData) {
	body, err := s.execute(name, data)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	setPageHeaders(h)
	h.Set("Cache-Control", "public, max-age=60")
	w.Write(body)
}
