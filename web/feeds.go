package web

import (
	"math"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Header values built once: assigning a slice to the header map costs no allocation. They are
// shared between requests and must never be modified.
var (
	gzipValue  = []string{"gzip"}
	corsAnyone = []string{"*"}
)

// serveFeed answers GET and HEAD /feeds/{file} from the cache, when the request came through
// the mux (feedsFirst answers most of them before that).
func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request) {
	s.answerFeed(w, r, r.PathValue("file"), time.Now())
}

// feedsFirst answers subscription feed requests ahead of the request-id, metrics and routing
// layers, which together cost more than the answer itself: nearly all of the traffic is feed
// readers polling, and most of that gets a 304. It takes GET and HEAD of /feeds/{file} without
// a proxy's request id (those go the long way, to be logged with it) and counts them in the
// metrics directly, under the route the mux would have matched.
func (s *Server) feedsFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if len(p) <= len(feedsPrefix) || p[:len(feedsPrefix)] != feedsPrefix || strings.IndexByte(p[len(feedsPrefix):], '/') >= 0 ||
			(r.Method != http.MethodGet && r.Method != http.MethodHead) || headerValue(r.Header, RequestIDHeader) != "" {
			next.ServeHTTP(w, r)
			return
		}
		// One clock reading serves both the metrics and Cache-Control: on virtual machines a
		// reading can cost as much as setting a header.
		start := time.Now()
		status := s.answerFeed(w, r, p[len(feedsPrefix):], start)
		if s.metrics != nil {
			s.metrics.FeedRequest(status, time.Since(start))
		}
	})
}

const feedsPrefix = "/feeds/"

// answerFeed answers a request for file (e.g. lingling.rss), received at now, and returns the
// status it wrote.
func (s *Server) answerFeed(w http.ResponseWriter, r *http.Request, file string, now time.Time) int {
	dot := strings.LastIndexByte(file, '.')
	if dot <= 0 {
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	e, ok := s.cache.get(file)
	if !ok {
		// Only a feed that will exist is "not built yet": 503 tells clients to come back.
		if (s.tree.Has(file[:dot]) || file[:dot] == syndicate.SiteFeed) && slices.Contains(syndicate.Formats, file[dot+1:]) {
			http.Error(w, "This feed has not been built yet; try again after the channel's next build.", http.StatusServiceUnavailable)
			return http.StatusServiceUnavailable
		}
		http.NotFound(w, r)
		return http.StatusNotFound
	}
	status, n, useGzip := writeCached(w, r, e, s.cc.header(file[:dot], now))
	if n > 0 && s.metrics != nil {
		s.metrics.FeedServed(file[dot+1:], useGzip, n)
	}
	return status
}

// writeCached answers from a cached document, for feeds and archive pages alike: validators and
// 304, the gzip representation when accepted, HEAD. It returns the status, the body bytes
// written (0 for a 304 or HEAD) and whether they were gzip.
func writeCached(w http.ResponseWriter, r *http.Request, e *cached, cacheControl []string) (int, int, bool) {
	if wantsHTML(r.Header) { // a person opened the feed in a browser (negotiate.go)
		status, n := writeHTMLView(w, r, e, path.Base(r.URL.Path), cacheControl)
		return status, n, false
	}
	h := w.Header()
	useGzip, acceptable := chooseGzip(r, e.gzipped != nil)
	if !acceptable {
		notAcceptable(w)
		return http.StatusNotAcceptable, 0, false
	}
	etag, etagHeader := e.etag, e.etagHeader
	if useGzip {
		etag, etagHeader = e.gzipETag, e.gzipHeader
	}
	// A 304 carries what guides caches (RFC 9110 §15.4.5: ETag, Vary, Cache-Control; Last-Modified
	// for clients that revalidate by date) and no representation metadata. Fewer header keys is
	// also less work per request: net/http copies the map when the status is written.
	h["Etag"] = etagHeader
	h["Last-Modified"] = e.lmHeader
	h["Vary"] = e.vary
	h["Cache-Control"] = cacheControl
	h["Access-Control-Allow-Origin"] = corsAnyone
	if preconditionFailed(r, etag, e.etag, e.modUnix) {
		w.WriteHeader(http.StatusPreconditionFailed)
		return http.StatusPreconditionFailed, 0, useGzip
	}
	if notModified(r, etag, e.etag, e.modUnix) {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified, 0, useGzip
	}
	h["Content-Type"] = e.contentType
	if e.linkHeader != nil {
		h["Link"] = e.linkHeader
	}
	length := e.lengthHeader
	if useGzip {
		h["Content-Encoding"] = gzipValue
		length = e.gzipLengthHeader
	}
	h["Content-Length"] = length
	if r.Method == http.MethodHead {
		return http.StatusOK, 0, useGzip
	}
	body := e.gzipped
	if !useGzip {
		var err error
		if body, err = e.identityBody(); err != nil {
			// Gzip bytes from the store that do not inflate: the request cannot be answered,
			// and the same bytes would fail every time, so it is worth an error in the log.
			delete(h, "Content-Length")
			delete(h, "Content-Encoding")
			http.Error(w, "This feed cannot be served uncompressed right now; ask with Accept-Encoding: gzip.", http.StatusInternalServerError)
			return http.StatusInternalServerError, 0, false
		}
	}
	w.Write(body)
	return http.StatusOK, len(body), useGzip
}

// notModified applies RFC 9110 §13.1: If-None-Match wins over If-Modified-Since. Weak comparison,
// so a proxy that weakened our ETag still gets its 304; either representation's tag matches. A
// date later than our clock is no date we sent: a client whose clock runs ahead would otherwise
// miss every change until its date passed (RFC 7232 §3.3 calls such a date invalid).
func notModified(r *http.Request, etag, identityETag string, modUnix int64) bool {
	if inm := headerValue(r.Header, "If-None-Match"); inm != "" {
		return etagListed(inm, etag, true) || etagListed(inm, identityETag, true)
	}
	if ims := headerValue(r.Header, "If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && modUnix <= t.Unix() && !t.After(time.Now())
	}
	return false
}

// preconditionFailed applies If-Match and, without it, If-Unmodified-Since (RFC 9110 §13.2.2,
// steps 1 and 2, before If-None-Match): a client that wants the feed only if it is still the one
// it holds gets 412 once it changed. If-Match compares strongly: a weak tag never matches.
func preconditionFailed(r *http.Request, etag, identityETag string, modUnix int64) bool {
	if im := headerValue(r.Header, "If-Match"); im != "" {
		return !etagListed(im, etag, false) && !etagListed(im, identityETag, false)
	}
	if ius := headerValue(r.Header, "If-Unmodified-Since"); ius != "" && modUnix != math.MaxInt64 { // a page without a date: ignored
		t, err := http.ParseTime(ius)
		return err == nil && modUnix > t.Unix()
	}
	return false
}

// etagListed reports whether header, an If-None-Match or If-Match list, is "*" or names etag.
// weak compares as If-None-Match does (W/"x" matches "x"); If-Match compares strongly.
func etagListed(header, etag string, weak bool) bool {
	for header != "" {
		var tag string
		tag, header, _ = strings.Cut(header, ",")
		tag = strings.TrimSpace(tag)
		if weak {
			tag = strings.TrimPrefix(tag, "W/")
		}
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
