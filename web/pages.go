package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"

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

// articlePolicy sanitises stored HTML before it is shown on Syndicate's own pages.
var articlePolicy = bluemonday.UGCPolicy()

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
func (s *Server) items(r *http.Request, slug string, n int) ([]item, error) {
	arts, err := s.store.NewestItems(r.Context(), s.tree.Subtree(slug), n)
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
			Date: a.PublishedAt.In(s.loc())})
	}
	return out, nil
}

func (s *Server) loc() *time.Location {
	if l, err := time.LoadLocation(s.site.Timezone); err == nil {
		return l
	}
	return time.UTC
}

func (s *Server) nodes(r *http.Request, parent string) ([]node, error) {
	var out []node
	for _, slug := range s.tree.Children(parent) {
		c, _ := s.tree.Channel(slug)
		items, err := s.items(r, slug, DirectoryItems)
		if err != nil {
			return nil, err
		}
		children, err := s.nodes(r, slug)
		if err != nil {
			return nil, err
		}
		out = append(out, node{Channel: plainChannel(c), Href: s.site.ChannelURL(slug), Feeds: s.feedLinks(slug, ""), Items: items, Children: children})
	}
	return out, nil
}

// directoryPage answers GET /: the channel tree in configuration order, each channel with its
// newest items and subscribe links, and autodiscovery of the site-wide feed.
func (s *Server) directoryPage(w http.ResponseWriter, r *http.Request) {
	nodes, err := s.nodes(r, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	site := s.feedLinks(syndicate.SiteFeed, "")
	title := sanitize.Line(s.site.Title)
	s.render(w, r, "directory.html", pageData{Title: title, Nodes: nodes, SiteFeeds: site,
		Alternates: s.feedLinks(syndicate.SiteFeed, title+" ")})
}

// channelPage answers GET /channels/{slug}.
func (s *Server) channelPage(w http.ResponseWriter, r *http.Request) {
	slug := r.PathValue("slug")
	c, ok := s.tree.Channel(slug)
	if !ok {
		http.NotFound(w, r)
		return
	}
	items, err := s.items(r, slug, c.Limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c = plainChannel(c)
	n := node{Channel: c, Href: s.site.ChannelURL(slug), Feeds: s.feedLinks(slug, ""), Items: items}
	s.render(w, r, "channel.html", pageData{Title: pageTitle(c.Title, s.site.Title), Node: n,
		Alternates: s.feedLinks(slug, c.Title+" ")})
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
	s.render(w, r, "article.html", pageData{
		Title: pageTitle(a.Title, s.site.Title), Article: a, Alternates: alts,
		Content: template.HTML(articlePolicy.Sanitize(a.ContentHTML)), // sanitised just above
	})
}

func (s *Server) copyScript(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(copyJS)
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

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data pageData) {
	data.Site = s.site
	data.Hubs = s.hubs
	data.Site.Title = sanitize.Line(s.site.Title)
	data.Site.Description = sanitize.Line(s.site.Description)
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	setPageHeaders(h)
	h.Set("Cache-Control", "public, max-age=60")
	w.Write(buf.Bytes())
}
