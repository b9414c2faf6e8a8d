// Package web is Syndicate's HTTP face: feeds served from pre-rendered, pre-compressed documents,
// the admin API for articles, health checks, and the pages people browse.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/metrics"
)

const readyTimeout = 2 * time.Second

// writeTimeout bounds writing an answer; MaxRunWait stays below it.
const writeTimeout = time.Minute

// Options configure a Server.
type Options struct {
	Store  Store
	Tree   *syndicate.Tree
	Site   syndicate.Site
	Tokens []string // admin bearer tokens; any one of them grants access
	Log    *slog.Logger
	// Checks are run by /readyz, by name.
	Checks map[string]func(context.Context) error
	// Changed is called after articles of these channels were created, updated or deleted.
	Changed func(channels []string)
	// Stylesheets maps a path under the site (e.g. /xsl/rss.xsl) to an XSL document.
	Stylesheets map[string][]byte
	// Jobs, when set, is served under /api/jobs.
	Jobs Jobs
	// Metrics, when set, counts requests and is served at /metrics.
	Metrics *metrics.Metrics
	// Cache bounds the max-age of feeds; zero Min/Max mean one minute and one hour.
	Cache CachePolicy
	// Hubs are WebSub hubs announced in feeds' Link headers and in pages.
	Hubs []string
	// Hub, when set, is the built-in WebSub hub, served at POST /websub (websub.go).
	Hub Hub
	// MaxInFlight caps concurrent requests (0: DefaultMaxInFlight); past it requests get 503.
	MaxInFlight int
	// IdentityCacheBytes bounds the uncompressed feed bodies kept for clients without gzip
	// (0: DefaultIdentityCacheBytes; negative: none, every such request inflates).
	IdentityCacheBytes int
	// Limits bound the articles POST /api/articles accepts; zero fields mean their defaults.
	Limits syndicate.Limits
	// ImportBatch is how many records POST /api/articles stores per transaction
	// (import.batch_size; 0: ingest.DefaultBatchSize).
	ImportBatch int
}

// DefaultMaxInFlight is the default cap on concurrent requests.
const DefaultMaxInFlight = 4096

// Server serves Syndicate's HTTP API.
type Server struct {
	store   Store
	tree    *syndicate.Tree
	site    syndicate.Site
	tokens  [][]byte
	log     *slog.Logger
	checks  map[string]func(context.Context) error
	changed func([]string)
	limits  syndicate.Limits
	batch   int
	jobs    Jobs
	hub     Hub
	hubs    []string
	limit   int
	metrics *metrics.Metrics
	cc      *cacheControl
	cache   *Cache
	pages   *pageCache // rendered directory and channel pages (pagecache.go)
	mux     *http.ServeMux
	http    *http.Server
}

// New builds a server; call LoadDocuments before serving feeds.
func New(o Options) *Server {
	s := &Server{
		store: o.Store, tree: o.Tree, site: o.Site, log: o.Log, checks: o.Checks,
		changed: o.Changed, limits: o.Limits, batch: o.ImportBatch, jobs: o.Jobs, hub: o.Hub, hubs: o.Hubs, metrics: o.Metrics, limit: o.MaxInFlight, mux: http.NewServeMux(),
	}
	if o.IdentityCacheBytes == 0 {
		o.IdentityCacheBytes = DefaultIdentityCacheBytes
	}
	s.cache = NewCache(o.IdentityCacheBytes)
	s.pages, s.cache.changed = newPageCache(o.Site.Timezone), s.pagesChanged
	if o.Cache.Min <= 0 {
		o.Cache.Min = time.Minute
	}
	if o.Cache.Max < o.Cache.Min {
		o.Cache.Max = max(time.Hour, o.Cache.Min)
	}
	s.cc = &cacheControl{policy: o.Cache}
	if len(o.Hubs) > 0 {
		s.cache.links = func(channel, format string) []string {
			v := "<" + o.Site.FeedURL(channel, format) + `>; rel="self"`
			for _, h := range o.Hubs {
				v += ", <" + h + `>; rel="hub"`
			}
			return []string{v}
		}
	}
	for _, t := range o.Tokens {
		if t = strings.TrimSpace(t); t != "" {
			s.tokens = append(s.tokens, []byte(t))
		}
	}
	s.routes(o.Stylesheets)
	return s
}

func (s *Server) routes(stylesheets map[string][]byte) {
	s.mux.HandleFunc("GET /feeds/{file}", s.serveFeed)
	s.mux.Handle("GET /feeds/{slug}/archive/{file}", s.archiveHandler(stylesheets))
	s.mux.HandleFunc("OPTIONS /feeds/{file}", feedPreflight)
	s.mux.HandleFunc("OPTIONS /feeds/{slug}/archive/{file}", feedPreflight)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.HandleFunc("POST /api/articles", s.requireAdmin(identityBodyOnly(s.postArticles)))
	s.mux.HandleFunc("GET /api/articles/{id}", s.requireAdmin(s.getArticle))
	s.mux.HandleFunc("DELETE /api/articles/{id}", s.requireAdmin(s.deleteArticle))
	s.mux.HandleFunc(apiPrefix, s.apiFallback)
	s.mux.HandleFunc("GET /articles/{id}", s.articlePage)
	s.mux.HandleFunc("GET /channels/{slug}", s.channelPage)
	s.mux.HandleFunc("GET /opml", s.opmlExport)
	s.mux.HandleFunc("GET /static/copy.js", static("text/javascript; charset=utf-8", "public, max-age=86400", bytesOf(copyJS), nil))
	icon := static("image/png", "public, max-age=604800", iconPNG, nil)
	s.mux.HandleFunc("GET /favicon.ico", icon)
	s.mux.HandleFunc("GET /logo.png", icon)
	// Aggregators' browser tools fetch the schema too.
	s.mux.HandleFunc("GET "+syndicate.ItemDataSchemaPath, static("application/schema+json", "public, max-age=86400", bytesOf(itemDataSchema),
		http.Header{"Access-Control-Allow-Origin": corsAnyone}))
	s.mux.HandleFunc("GET /{$}", s.directoryPage)
	if s.jobs != nil {
		s.jobRoutes()
	}
	if s.hub != nil {
		s.websubRoutes()
	}
	if s.metrics != nil {
		s.mux.Handle("GET /metrics", s.metrics.Handler())
	}
	for path, body := range stylesheets {
		s.mux.HandleFunc("GET "+path, static(feed.XSLContentType, "public, max-age=86400", bytesOf(body), nil))
	}
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.mux
	if s.metrics != nil {
		// Right around the mux: the route label is the request's Pattern, which the mux sets on
		// the request it is given, and withRequestID passes on a copy.
		h = s.metrics.Middleware(h)
	}
	h = s.withRequestID(h)
	n := s.limit
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	return s.recoverPanics(limit(n, s.feedsFirst(h)))
}

// SchedulesChanged makes feeds' max-age follow a changed build schedule at once.
func (s *Server) SchedulesChanged() { s.cc.reset() }

// Cache returns the feed document cache, which builds update.
func (s *Server) Cache() *Cache { return s.cache }

// LoadDocuments fills the cache with every saved document.
func (s *Server) LoadDocuments(ctx context.Context) error {
	err := s.store.Documents(ctx, func(d syndicate.Document) error { return s.cache.Put(d) })
	if err != nil {
		return fmt.Errorf("web: load documents: %w", err)
	}
	return nil
}

// Listen binds addr now, so that a port already in use fails start-up instead of a goroutine,
// and serves in the background. Errors after start-up are logged.
func (s *Server) Listen(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("web: listen on %s: %w", addr, err)
	}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", slog.Any("error", err))
		}
	}()
	return ln.Addr(), nil
}

// Shutdown stops accepting requests and waits for the running ones, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.http == nil {
		return nil
	}
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}
