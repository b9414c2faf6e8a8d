package web

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	syndicate "github.com/yongzhou-news/syndicate"
)

// cached is one feed document ready to serve: everything a request needs is computed once, when
// the document is loaded after a build, never per request.
type cached struct {
	body         []byte
	gzipped      []byte // nil when gzip does not make it smaller
	etag         string
	gzipETag     string // a different representation needs a different strong ETag (RFC 9110 §8.8.3)
	lastModified string // http.TimeFormat
	modUnix      int64
	contentType  []string
	etagHeader   []string
	gzipHeader   []string
	lmHeader     []string
	linkHeader   []string // WebSub discovery (RFC 8288 Link), nil without hubs
	xslView      bool     // browsers get application/xml so the XSL view applies (browser.go)
	vary         []string
	// Content-Length values, formatted once.
	lengthHeader, gzipLengthHeader []string
}

// Cache holds every channel's current documents in memory. Reads take a read lock and a map
// lookup; a build replaces entries under the write lock.
type Cache struct {
	mu   sync.RWMutex
	docs map[string]*cached // key: slug + "." + format
	// links returns a document's Link header value, computed once per build.
	links func(channel, format string) []string
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{docs: map[string]*cached{}} }

// Put replaces the documents' entries.
func (c *Cache) Put(docs ...syndicate.Document) error {
	prepared := make(map[string]*cached, len(docs))
	for _, d := range docs {
		e, err := prepare(d)
		if err != nil {
			return err
		}
		if c.links != nil {
			e.linkHeader = c.links(d.Channel, d.Format)
		}
		prepared[d.Channel+"."+d.Format] = e
	}
	c.mu.Lock()
	for k, e := range prepared {
		c.docs[k] = e
	}
	c.mu.Unlock()
	return nil
}

func (c *Cache) get(key string) (*cached, bool) {
	c.mu.RLock()
	e, ok := c.docs[key]
	c.mu.RUnlock()
	return e, ok
}

func prepare(d syndicate.Document) (*cached, error) {
	ct, ok := syndicate.ContentTypes[d.Format]
	if !ok {
		return nil, fmt.Errorf("web: unknown feed format %q", d.Format)
	}
	lm := d.Modified.UTC().Format(http.TimeFormat)
	e := &cached{
		body: trim(d.Body), etag: d.ETag, lastModified: lm, modUnix: d.Modified.Unix(),
		contentType: []string{ct}, etagHeader: []string{d.ETag}, lmHeader: []string{lm},
		lengthHeader: []string{strconv.Itoa(len(d.Body))}, vary: varyValue,
	}
	if hasStylesheet(d.Body) {
		e.xslView, e.vary = true, varyBrowser
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("web: gzip %s.%s: %w", d.Channel, d.Format, err)
	}
	if _, err := zw.Write(d.Body); err != nil {
		return nil, fmt.Errorf("web: gzip %s.%s: %w", d.Channel, d.Format, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("web: gzip %s.%s: %w", d.Channel, d.Format, err)
	}
	if buf.Len() < len(d.Body) {
		e.gzipped = trim(buf.Bytes())
		e.gzipLengthHeader = []string{strconv.Itoa(len(e.gzipped))}
		// The ETag is quoted: put the suffix inside the quotes.
		e.gzipETag = d.ETag[:len(d.ETag)-1] + `-gz"`
		e.gzipHeader = []string{e.gzipETag}
	}
	return e, nil
}

// trim returns b without the spare capacity a growing buffer leaves (up to half of it for a
// rendered document): the cache keeps every document for as long as it is current, and its
// memory is mostly these bytes.
func trim(b []byte) []byte {
	if cap(b)-len(b) <= len(b)/16 {
		return b
	}
	return bytes.Clone(b)
}
