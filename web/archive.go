package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
)

// archiveCacheControl lets caches keep a complete archive page without revalidating: RFC 5005 §4
// says the entries of an archive document do not change. A page's slots never do (store.Store.
// ArchivePage): it can lose a deleted or moved article, never gain one, so a cached copy holds
// everything a fresh one does. (The newest page gains a next-archive link when the page after it
// completes; readers walk archives from the feed backwards, along prev-archive, so a cached copy
// without that link loses nothing. An edit shows on the page, but a cached copy keeps the old
// version.)
var archiveCacheControl = []string{"public, max-age=31536000, immutable"}

// archiveCacheBytes bounds the memory of rendered archive pages (bodies plus gzipped bodies).
// A page of 50 long articles is a few hundred KB, so this keeps on the order of a hundred.
const archiveCacheBytes = 64 << 20

// archives serves GET /feeds/{slug}/archive/{n}.{format}: page n (from 1, the oldest) of a
// channel's RFC 5005 archive, rendered on first request and kept in a bounded LRU cache.
//
// A cached page is good while the store's LastChange is the one it was checked at; after any
// article change the page is read again and re-rendered only if its fingerprint changed, so every
// replica serves the bytes the store's current content renders to.
type archives struct {
	s     *Server
	pages *build.Archive

	cache *byteLRU[string, *archiveEntry] // by key, up to archiveCacheBytes
}

type archiveEntry struct {
	key         string // slug + "/" + n + "." + format
	seq         int64  // the store's LastChange when the entry was last found current
	fingerprint string
	doc         *cached
	size        int
}

// archiveHandler returns the handler of archive pages. stylesheets are the Options'; archive
// pages carry the same <?xml-stylesheet?> as feeds when they are served.
func (s *Server) archiveHandler(stylesheets map[string][]byte) http.Handler {
	_, xsl := stylesheets[build.StylesheetPath(syndicate.FormatAtom)]
	return &archives{
		s:     s,
		pages: &build.Archive{Store: s.store, Site: s.site, Tree: s.tree, Stylesheets: xsl},
		cache: newByteLRU[string](archiveCacheBytes, func(e *archiveEntry) int { return e.size }),
	}
}

func (a *archives) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	slug, file := r.PathValue("slug"), r.PathValue("file")
	num, format, _ := strings.Cut(file, ".")
	n, ok := pageNumber(num)
	if _, known := syndicate.ContentTypes[format]; !ok || !known || !a.has(slug, format) {
		http.NotFound(w, r)
		return
	}
	seq, err := a.s.store.LastChange(r.Context())
	if err != nil {
		a.s.fail(w, r, err)
		return
	}
	key := slug + "/" + file
	e, _ := a.cache.get(key)
	if e == nil || e.seq != seq {
		if e, err = a.refresh(r.Context(), key, slug, n, format, seq, e); err != nil {
			if syndicate.ErrorCode(err) == syndicate.ENOTFOUND {
				http.Error(w, "No such archive page. Pages are published once they are complete; the newest items are in the channel's feed.", http.StatusNotFound)
				return
			}
			a.s.fail(w, r, err)
			return
		}
	}
	writeCached(w, r, e.doc, archiveCacheControl)
}

// has reports whether slug has an archive: every channel does, and the site-wide feed once it has
// been built (it is optional to the builder, so the cache is what tells).
func (a *archives) has(slug, format string) bool {
	if slug == syndicate.SiteFeed {
		_, ok := a.s.cache.get(slug + "." + format)
		return ok
	}
	return a.s.tree.Has(slug)
}

// pageNumber parses a page number: decimal digits without a leading zero, so that each page
// has one URL.
func pageNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 || s[0] == '0' {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// refresh reads the page again at change seq. When its fingerprint is that of the cached
// rendering (the change was elsewhere), the rendering is kept; otherwise it is rendered anew.
func (a *archives) refresh(ctx context.Context, key, slug string, n int, format string, seq int64, old *archiveEntry) (*archiveEntry, error) {
	page, err := a.pages.Page(ctx, slug, n)
	if err != nil {
		if syndicate.ErrorCode(err) == syndicate.ENOTFOUND {
			a.cache.remove(key) // e.g. the channel tree changed and the page is no longer complete
		}
		return nil, err
	}
	e := &archiveEntry{key: key, seq: seq, fingerprint: page.Fingerprint}
	if old != nil && old.fingerprint == page.Fingerprint {
		e.doc, e.size = old.doc, old.size
	} else {
		doc, err := page.Render(format)
		if err != nil {
			return nil, err
		}
		if e.doc, err = prepare(doc, nil); err != nil {
			return nil, err
		}
		e.size = e.doc.memory()
	}
	a.cache.add(e.key, e) // one larger than the whole budget is served but not kept
	return e, nil
}
