package web

import (
	syndicate "github.com/yongzhou-news/syndicate"
)

// DefaultIdentityCacheBytes is the default budget of identity bodies kept in memory: sixteen
// 500 KB full-text feeds. Clients without gzip are few (every mainstream reader asks for it),
// and what the budget holds costs about twice its size in resident memory, since Go's collector
// lets the heap grow to twice what is live; the default leaves a thousand channels' gzip
// documents within the memory target of `make bench` (bench/notes.md, Memory).
const DefaultIdentityCacheBytes = 8 << 20

// identityCache keeps the uncompressed bodies of recently requested feeds, up to a byte budget.
// The feed cache holds every document gzip-compressed only: feed readers ask for gzip, and a
// thousand channels' identity bodies would take gigabytes where their gzip takes tens of
// megabytes. A client without gzip gets the body inflated once and then, while it stays among
// the recently used, the same precomputed bytes as everyone else.
//
// It was a hand-written list and map; it is now byteLRU on golang-lru because the hot path did
// not measurably slow down (issue #17): a hit took 44.7 ns median, 16.9 best, hand-written, and
// 53.9 / 17.8 ns on golang-lru (BenchmarkIdentityHit serial, 8 interleaved runs; parallel 48.7 /
// 17.3 against 60.5 / 20.1), while BenchmarkServeFeed/identity's whole request took 1022 / 930 ns
// against 1420 / 907 ns, and its gzip case, which does not touch this cache, moved by more
// between runs (5568 against 3693 ns median) on the two shared cores.
type identityCache struct {
	bodies *byteLRU[*cached, []byte]
}

func newIdentityCache(budget int) *identityCache {
	return &identityCache{bodies: newByteLRU[*cached](budget, func(b []byte) int { return len(b) })}
}

// body returns e's identity bytes.
func (c *identityCache) body(e *cached) ([]byte, error) {
	if b, ok := c.bodies.get(e); ok {
		return b, nil
	}
	// Inflated outside the lock: two requests may both inflate a new body, which is cheaper than
	// making every identity request wait for one.
	b, err := syndicate.Gunzip(e.gzipped, e.size)
	if err != nil {
		return nil, err
	}
	c.bodies.add(e, b)
	return b, nil
}

// forget drops e's body: a build replaced the document.
func (c *identityCache) forget(e *cached) { c.bodies.remove(e) }

// usage reports the bytes held and the number of bodies.
func (c *identityCache) usage() (int, int) { return c.bodies.usage() }
