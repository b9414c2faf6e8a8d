package web

import (
	"net/http"
	"sync"
	"time"
)

// static serves a body built into the binary (stylesheets, the item data schema, the icon, the
// copy script) as the pages are served: an ETag that is the body's digest, the same on every
// replica, so clients revalidate with a 304 instead of fetching again; Content-Length; gzip where
// it pays. body is called once, on the first request.
func static(contentType, cacheControl string, body func() []byte, extra http.Header) http.HandlerFunc {
	page := sync.OnceValue(func() *page {
		p := newPage(body(), time.Time{})
		p.contentType = []string{contentType}
		return p
	})
	cc := []string{cacheControl}
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range extra {
			w.Header()[k] = v
		}
		writePage(w, r, page(), pageVary, cc)
	}
}

// bytesOf returns b, for static.
func bytesOf(b []byte) func() []byte { return func() []byte { return b } }
