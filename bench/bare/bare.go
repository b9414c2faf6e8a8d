// Package bare is the ceiling Syndicate's feed handler is measured against: a net/http handler
// that does the least a feed server must (a map lookup, If-None-Match, Accept-Encoding: gzip) and
// writes bytes prepared in advance, with no metrics, no Cache-Control policy and no care for
// q-values or weak tags.
package bare

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Entry is one document as the bare handler serves it.
type Entry struct {
	Body, Gzipped  []byte
	ETag, GzipETag string

	contentType, etag, gzipETag, length, gzipLength []string
}

// Handler serves /feeds/{slug}.{format} from memory.
type Handler struct {
	entries map[string]*Entry // key: the request path
}

var (
	gzipValue = []string{"gzip"}
	varyValue = []string{"Accept-Encoding"}
)

// New returns a handler with no documents.
func New() *Handler { return &Handler{entries: map[string]*Entry{}} }

// Add prepares docs the way Syndicate does (gzip once, with syndicate.GzipOf). It must not run
// while the handler serves.
func (h *Handler) Add(docs ...syndicate.Document) error {
	for _, d := range docs {
		gz, err := Gzip(d.Body)
		if err != nil {
			return fmt.Errorf("bare: %s.%s: %w", d.Channel, d.Format, err)
		}
		e := &Entry{Body: d.Body, Gzipped: gz, ETag: d.ETag, GzipETag: d.ETag[:len(d.ETag)-1] + `-gz"`}
		e.contentType = []string{syndicate.ContentTypes[d.Format]}
		e.etag, e.gzipETag = []string{e.ETag}, []string{e.GzipETag}
		e.length, e.gzipLength = []string{strconv.Itoa(len(e.Body))}, []string{strconv.Itoa(len(e.Gzipped))}
		h.entries["/feeds/"+d.Channel+"."+d.Format] = e
	}
	return nil
}

// Entries returns the prepared documents by request path.
func (h *Handler) Entries() map[string]*Entry { return h.entries }

// Gzip compresses b as Syndicate's builds do.
func Gzip(b []byte) ([]byte, error) {
	return bytes.Clone(syndicate.GzipOf(b)), nil // without the buffer's spare capacity, as Syndicate keeps it
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e, ok := h.entries[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	gz := strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
	hdr := w.Header()
	hdr["Content-Type"] = e.contentType
	hdr["Vary"] = varyValue
	etag, body, length := e.etag, e.Body, e.length
	if gz {
		etag, body, length = e.gzipETag, e.Gzipped, e.gzipLength
	}
	hdr["Etag"] = etag
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == e.ETag || inm == e.GzipETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz {
		hdr["Content-Encoding"] = gzipValue
	}
	hdr["Content-Length"] = length
	w.Write(body)
}
