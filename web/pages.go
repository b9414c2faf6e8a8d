package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"

	"github.com/microcosm-cc/bluemonday"

	syndicate "github.com/yongzhou-news/syndicate"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// articlePolicy sanitises stored HTML before it is shown on Syndicate's own pages.
var articlePolicy = bluemonday.UGCPolicy()

type link struct{ Title, Href, Type string }

type node struct {
	Channel  syndicate.Channel
	Feeds    []link
	Children []node
}

type pageData struct {
	Site       syndicate.Site
	Title      string
	Alternates []link
	Nodes      []node
	Article    syndicate.Article
	Content    template.HTML
}

var formatNames = map[string]string{syndicate.FormatRSS: "RSS", syndicate.FormatAtom: "Atom", syndicate.FormatJSON: "JSON Feed"}

func (s *Server) feedLinks(slug string) []link {
	var out []link
	for _, f := range syndicate.Formats {
		out = append(out, link{Title: formatNames[f], Href: s.site.FeedURL(slug, f), Type: syndicate.ContentTypes[f]})
	}
	return out
}

func (s *Server) nodes(parent string) []node {
	var out []node
	for _, slug := range s.tree.Children(parent) {
		c, _ := s.tree.Channel(slug)
		out = append(out, node{Channel: c, Feeds: s.feedLinks(slug), Children: s.nodes(slug)})
	}
	return out
}

// directoryPage answers GET /: the channel tree with subscribe links.
func (s *Server) directoryPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "directory.html", pageData{Site: s.site, Title: s.site.Title, Nodes: s.nodes("")})
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
		alts = append(alts, s.feedLinks(c)...)
	}
	s.render(w, r, "article.html", pageData{
		Site: s.site, Title: a.Title + " - " + s.site.Title, Article: a, Alternates: alts,
		Content: template.HTML(articlePolicy.Sanitize(a.ContentHTML)), // sanitised just above
	})
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data pageData) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	w.Write(buf.Bytes())
}
