package web

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/feed"
)

// directoryKey is the page cache's key for GET /; channel pages are keyed by their slug, which
// is never empty and never holds "/".
const (
	directoryKey = ""
	opmlKey      = "/opml"
)

// page is a rendered directory or channel page with everything a request needs, computed once
// per render, like a feed document in the Cache.
type page struct {
	contentType            []string
	body, gzipped          []byte
	etag, gzipETag         string
	modUnix                int64 // math.MaxInt64 when the page has no Last-Modified
	etagHeader, gzipHeader []string
	lmHeader               []string // nil: no Last-Modified
	length, gzipLength     []string
}

// Header values every page shares; never modified.
var (
	pageContentType  = []string{"text/html; charset=utf-8"}
	pageCacheControl = []string{"public, max-age=60"}
	pageVary         = []string{"Accept-Encoding"}
	// pageSecurity is what setPageHeaders sets, built once: assigning the slices costs nothing.
	// Referrer-Policy is left to the page's <meta name="referrer"> (layout.html), which says the
	// same: a ninth header key makes net/http's header map outgrow its small form, and that
	// growth was half the cost of serving a cached page.
	pageSecurity = func() http.Header {
		h := http.Header{}
		setPageHeaders(h)
		h.Del("Referrer-Policy")
		return h
	}()
)

// newPage prepares body for serving. The ETag is the body's digest, so servers that render the
// same store state send the same validators; modified is the newest change the page shows.
func newPage(body []byte, modified time.Time) *page {
	p := &page{contentType: pageContentType, body: body, etag: syndicate.ETagOf(body), modUnix: math.MaxInt64}
	p.etagHeader = []string{p.etag}
	p.length = []string{strconv.Itoa(len(body))}
	if !modified.IsZero() {
		p.modUnix = modified.Unix()
		p.lmHeader = []string{modified.UTC().Format(http.TimeFormat)}
	}
	if gz := syndicate.GzipOf(body); len(gz) < len(body) {
		p.gzipped = trim(gz)
		p.gzipETag = p.etag[:len(p.etag)-1] + `-gz"`
		p.gzipHeader = []string{p.gzipETag}
		p.gzipLength = []string{strconv.Itoa(len(p.gzipped))}
	}
	return p
}

// pageCacheBytes bounds the bodies the page cache keeps. A crawler can ask for every channel
// page; a thousand channels of 50 items take about 20 MB. Past the bound the least recently used
// pages go.
const pageCacheBytes = 32 << 20

// memory is roughly what a page keeps alive.
func (p *page) memory() int { return len(p.body) + len(p.gzipped) }

// pageCache keeps the rendered directory and channel pages until a build changes what they
// show. Cache.Put, which every build's documents go through (on this replica after its own
// build, on the others when it is announced), invalidates them; the next request renders again.
type pageCache struct {
	zone  *time.Location          // the site's time zone, loaded once
	pages *byteLRU[string, *page] // up to pageCacheBytes

	mu    sync.Mutex
	epoch uint64 // grows with every invalidation

	// Renders take turns: the burst of requests that follows a build renders each page once,
	// and the store sees one render's queries at a time.
	render sync.Mutex
}

func newPageCache(timezone string) *pageCache {
	zone, err := feed.Location(timezone)
	if err != nil {
		zone = time.UTC
	}
	return &pageCache{zone: zone, pages: newByteLRU[string](pageCacheBytes, (*page).memory)}
}

// get returns the cached page for key, rendering it if there is none.
func (c *pageCache) get(key string, render func() (*page, error)) (*page, error) {
	if p, ok := c.pages.get(key); ok {
		return p, nil
	}
	c.render.Lock()
	defer c.render.Unlock()
	if p, ok := c.pages.get(key); ok { // rendered while this request waited its turn
		return p, nil
	}
	c.mu.Lock()
	epoch := c.epoch
	c.mu.Unlock()
	p, err := render()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	// A build that landed during the render may have changed what the page shows: the render
	// still answers this request, but the next one renders again.
	if c.epoch == epoch {
		c.pages.add(key, p)
	}
	c.mu.Unlock()
	return p, nil
}

// changed forgets the pages that documents of these channels change: the directory, which
// shows every channel, and each channel's own page. A parent's page shows its subtree's items
// too, but a change there changes the parent's feed as well, whose build comes through here.
func (c *pageCache) changed(docs []syndicate.Document) {
	c.mu.Lock()
	c.epoch++
	c.pages.remove(directoryKey)
	for _, d := range docs {
		c.pages.remove(d.Channel)
	}
	c.mu.Unlock()
}

// writePage answers GET or HEAD with p, with these Vary and Cache-Control values: validators and
// 304, gzip when accepted. It returns the status and the body bytes written (0 for a 304 or HEAD).
func writePage(w http.ResponseWriter, r *http.Request, p *page, vary, cacheControl []string) (int, int) {
	h := w.Header()
	for k, v := range pageSecurity {
		h[k] = v
	}
	useGzip, acceptable := chooseGzip(r, p.gzipped != nil)
	if !acceptable {
		notAcceptable(w)
		return http.StatusNotAcceptable, 0
	}
	etag, etagHeader, body, length := p.etag, p.etagHeader, p.body, p.length
	if useGzip {
		etag, etagHeader, body, length = p.gzipETag, p.gzipHeader, p.gzipped, p.gzipLength
	}
	h["Etag"] = etagHeader
	if p.lmHeader != nil {
		h["Last-Modified"] = p.lmHeader
	}
	h["Vary"] = vary
	h["Cache-Control"] = cacheControl
	if preconditionFailed(r, etag, p.etag, p.modUnix) {
		w.WriteHeader(http.StatusPreconditionFailed)
		return http.StatusPreconditionFailed, 0
	}
	if notModified(r, etag, p.etag, p.modUnix) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified, 0
	}
	h["Content-Type"] = p.contentType
	if useGzip {
		h["Content-Encoding"] = gzipValue
	}
	h["Content-Length"] = length
	if r.Method == http.MethodHead {
		return http.StatusOK, 0
	}
	w.Write(body)
	return http.StatusOK, len(body)
}

// pagesChanged is the Cache's hook: documents were put, the pages showing them are stale.
func (s *Server) pagesChanged(docs []syndicate.Document) { s.pages.changed(docs) }
