package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/bench/feeddata"
)

// discard is a ResponseWriter that keeps the status and the byte count only.
type discard struct {
	h      http.Header
	status int
	n      int
}

func (w *discard) Header() http.Header { return w.h }
func (w *discard) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discard) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}

// serveContent is what writeCached would be on http.ServeContent: the same precomputed headers,
// the validators and the body left to net/http. It is here to be measured against writeCached
// (see cached's doc comment for the numbers and why writeCached stays).
func serveContent(w http.ResponseWriter, r *http.Request, e *cached, cacheControl []string) {
	h := w.Header()
	useGzip, _ := chooseGzip(r, e.gzipped != nil)
	h["Etag"], h["Vary"], h["Cache-Control"] = e.etagHeader, e.vary, cacheControl
	h["Access-Control-Allow-Origin"], h["Content-Type"] = corsAnyone, e.contentType
	body := e.gzipped
	if useGzip {
		h["Etag"], h["Content-Encoding"] = e.gzipHeader, gzipValue
	} else {
		body, _ = e.identityBody()
	}
	http.ServeContent(w, r, "", time.Unix(e.modUnix, 0), bytes.NewReader(body))
}

// BenchmarkConditionalGET compares writeCached with http.ServeContent on the 零陵 channel's
// 50-item RSS document, for the three requests a feed reader makes.
func BenchmarkConditionalGET(b *testing.B) {
	tree, err := feeddata.Tree(1)
	if err != nil {
		b.Fatal(err)
	}
	docs, err := feeddata.Documents(tree, 0)
	if err != nil {
		b.Fatal(err)
	}
	c := NewCache(DefaultIdentityCacheBytes)
	if err := c.Put(docs...); err != nil {
		b.Fatal(err)
	}
	e, ok := c.get("lingling.rss")
	if !ok {
		b.Fatal("no lingling.rss")
	}
	handlers := []struct {
		name  string
		serve func(http.ResponseWriter, *http.Request, *cached, []string)
	}{
		{"writeCached", func(w http.ResponseWriter, r *http.Request, e *cached, cc []string) { writeCached(w, r, e, cc) }},
		{"ServeContent", serveContent},
	}
	requests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"gzip", map[string]string{"Accept-Encoding": "gzip"}, http.StatusOK},
		{"304", map[string]string{"Accept-Encoding": "gzip", "If-None-Match": e.gzipETag}, http.StatusNotModified},
		{"identity", nil, http.StatusOK},
	}
	cc := []string{"public, max-age=300"}
	for _, hd := range handlers {
		for _, rq := range requests {
			b.Run(hd.name+"/"+rq.name, func(b *testing.B) {
				r := httptest.NewRequest(http.MethodGet, "/feeds/lingling.rss", nil)
				for k, v := range rq.header {
					r.Header.Set(k, v)
				}
				w := &discard{}
				b.ReportAllocs()
				for b.Loop() {
					w.h, w.status, w.n = make(http.Header), 0, 0
					hd.serve(w, r, e, cc)
				}
				if w.status != rq.status {
					b.Fatalf("status %d, want %d", w.status, rq.status)
				}
			})
		}
	}
}
