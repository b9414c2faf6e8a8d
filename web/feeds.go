package web

import (
	"net/http"
	"strconv"
	"strings"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Header values built once: assigning a slice to the header map costs no allocation. They are
// shared between requests and must never be modified.
var (
	gzipValue  = []string{"gzip"}
	varyValue  = []string{"Accept-Encoding"}
	nosniff    = []string{"nosniff"}
	corsAnyone = []string{"*"}
)

// serveFeed answers GET and HEAD /feeds/{file} from the cache.
func (s *Server) serveFeed(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	dot := strings.LastIndexByte(file, '.')
	if dot <= 0 {
		http.NotFound(w, r)
		return
	}
	e, ok := s.cache.get(file)
	if !ok {
		if s.tree.Has(file[:dot]) || file[:dot] == syndicate.SiteFeed {
			http.Error(w, "This feed has not been built yet; try again after the channel's next build.", http.StatusServiceUnavailable)
			return
		}
		http.NotFound(w, r)
		return
	}
	n, useGzip := writeCached(w, r, e, s.cc.header(file[:dot]))
	if n > 0 && s.metrics != nil {
		s.metrics.FeedServed(file[dot+1:], useGzip, n)
	}
}

// writeCached answers from a cached document, for feeds and archive pages alike: validators and
// 304, the gzip representation when accepted, HEAD. It returns the body bytes written (0 for a
// 304 or HEAD) and whether they were gzip.
func writeCached(w http.ResponseWriter, r *http.Request, e *cached, cacheControl []string) (int, bool) {
	h := w.Header()
	useGzip := e.gzipped != nil && acceptsGzip(r.Header.Get("Accept-Encoding"))
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
	if notModified(r, etag, e.etag, e.modUnix) {
		w.WriteHeader(http.StatusNotModified)
		return 0, useGzip
	}
	h["Content-Type"] = e.contentTypeFor(r)
	h["X-Content-Type-Options"] = nosniff
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
		return 0, useGzip
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
			return 0, false
		}
	}
	w.Write(body)
	return len(body), useGzip
}

// notModified applies RFC 9110 §13.1: If-None-Match wins over If-Modified-Since. Weak comparison,
// so a proxy that weakened our ETag still gets its 304; either representation's tag matches.
func notModified(r *http.Request, etag, identityETag string, modUnix int64) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return etagMatches(inm, etag) || etagMatches(inm, identityETag)
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && modUnix <= t.Unix()
	}
	return false
}

func etagMatches(header, etag string) bool {
	for header != "" {
		var tag string
		tag, header, _ = strings.Cut(header, ",")
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (a q=0 refuses it).
func acceptsGzip(header string) bool {
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		if !strings.EqualFold(name, "gzip") && name != "*" {
			continue
		}
		q := strings.TrimSpace(params)
		if v, ok := strings.CutPrefix(q, "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}
