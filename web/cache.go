package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	syndicate "github.com/yongzhou-news/syndicate"
)

// cached is one feed document ready to serve: everything a request needs is computed once, when
// the document is loaded after a build, never per request.
//
// writeCached answers with it by hand rather than through http.ServeContent (issue #17 asked),
// because ServeContent would change what we send: with Content-Encoding set it sends no
// Content-Length, so gzip bodies go chunked; it matches If-None-Match against the response's
// ETag only, where a 304 also answers the other representation's tag (notModified); and its
// 304 drops Last-Modified. Range, If-Match and If-Range, which it would add, feed readers do not
// use. And it formats Last-Modified, Content-Length and Accept-Ranges per request. On the 50-item
// 零陵 RSS (BenchmarkConditionalGET, 2 shared cores, medians of 4; best in brackets):
//
//	           writeCached              ServeContent
//	gzip       806 ns (532), 2 allocs   19186 ns (11316), 8 allocs, 10.8 KB
//	304        621 ns (576), 2 allocs    1694 ns   (979), 5 allocs
//	identity   853 ns (464), 2 allocs   58127 ns (47107), 10 allocs, 33 KB
//
// (Most of ServeContent's 200 cost is io.CopyN's 32 KB buffer, which a real net/http connection
// avoids through ReadFrom; the 304 and the header allocations remain.)
type cached struct {
	// body is the identity representation when it is kept with the entry: for documents gzip
	// does not shrink, and for archive pages (whose own cache bounds them). Otherwise it is nil
	// and identity requests get it from identity, which inflates gzipped.
	body         []byte
	identity     *identityCache
	size         int    // len of the identity body
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
	view         htmlView // what a browser gets instead of the feed (htmlview.go), made on first use
	vary         []string
	// Content-Length values, formatted once.
	lengthHeader, gzipLengthHeader []string
}

// identityBody returns the uncompressed representation.
func (e *cached) identityBody() ([]byte, error) {
	if e.body != nil {
		return e.body, nil
	}
	return e.identity.body(e)
}

// memory is roughly what the entry keeps alive.
func (e *cached) memory() int { return len(e.body) + len(e.gzipped) }

// Cache holds every channel's current documents in memory, gzip-compressed, with the identity
// bodies of recently requested ones (identityCache). Reads take a read lock and a map lookup; a
// build replaces entries under the write lock.
type Cache struct {
	mu       sync.RWMutex
	docs     map[string]*cached // key: slug + "." + format
	identity *identityCache
	// links returns a document's Link header value, computed once per build.
	links func(channel, format string) []string
	// changed, when set, learns of every Put: the pages showing these channels are out of date.
	changed func(docs []syndicate.Document)
}

// NewCache returns an empty cache that keeps up to identityBytes of identity bodies.
func NewCache(identityBytes int) *Cache {
	return &Cache{docs: map[string]*cached{}, identity: newIdentityCache(identityBytes)}
}

// Put replaces the documents' entries. A document without Gzip is compressed here.
func (c *Cache) Put(docs ...syndicate.Document) error {
	prepared := make(map[string]*cached, len(docs))
	for _, d := range docs {
		e, err := prepare(d, c.identity)
		if err != nil {
			return err
		}
		if c.links != nil {
			e.linkHeader = c.links(d.Channel, d.Format)
		}
		prepared[d.Channel+"."+d.Format] = e
	}
	c.mu.Lock()
	var replaced []*cached
	for k, e := range prepared {
		if old, ok := c.docs[k]; ok {
			replaced = append(replaced, old)
		}
		c.docs[k] = e
	}
	c.mu.Unlock()
	for _, old := range replaced {
		c.identity.forget(old)
	}
	if c.changed != nil {
		c.changed(docs)
	}
	return nil
}

// ETag returns the ETag of the document served for channel in format, "" when there is none.
func (c *Cache) ETag(channel, format string) string {
	if e, ok := c.get(channel + "." + format); ok {
		return e.etag
	}
	return ""
}

func (c *Cache) get(key string) (*cached, bool) {
	c.mu.RLock()
	e, ok := c.docs[key]
	c.mu.RUnlock()
	return e, ok
}

// Memory reports the bytes the cache holds: the documents (gzip, or identity where gzip does
// not help) and the identity bodies kept for clients without gzip.
func (c *Cache) Memory() (documents, identity int) {
	c.mu.RLock()
	for _, e := range c.docs {
		documents += e.memory()
	}
	c.mu.RUnlock()
	identity, _ = c.identity.usage()
	return documents, identity
}

// prepare makes a cache entry of d. With identity nil the entry keeps the identity body itself.
func prepare(d syndicate.Document, identity *identityCache) (*cached, error) {
	ct, ok := syndicate.ContentTypes[d.Format]
	if !ok {
		return nil, fmt.Errorf("web: unknown feed format %q", d.Format)
	}
	lm := d.Modified.UTC().Format(http.TimeFormat)
	e := &cached{
		size: len(d.Body), etag: d.ETag, lastModified: lm, modUnix: d.Modified.Unix(),
		contentType: []string{ct}, etagHeader: []string{d.ETag}, lmHeader: []string{lm},
		lengthHeader: []string{strconv.Itoa(len(d.Body))}, vary: varyNegotiated,
	}
	gz := d.Gzip
	if gz == nil {
		gz = syndicate.GzipOf(d.Body)
	}
	if len(gz) >= len(d.Body) {
		e.body = trim(d.Body) // serve identity only, and keep it
		return e, nil
	}
	e.gzipped = trim(gz)
	e.gzipLengthHeader = []string{strconv.Itoa(len(e.gzipped))}
	// The ETag is quoted: put the suffix inside the quotes.
	e.gzipETag = d.ETag[:len(d.ETag)-1] + `-gz"`
	e.gzipHeader = []string{e.gzipETag}
	if identity != nil {
		e.identity = identity // the identity body is not kept: not even trimmed
	} else {
		e.body = trim(d.Body)
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
