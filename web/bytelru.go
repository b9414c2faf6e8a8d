package web

import (
	"math"
	"sync"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// byteLRU is a least-recently-used cache bounded by the bytes of its values rather than by their
// number: golang-lru keeps the recency order and the index, this keeps the byte count, which
// golang-lru (bounded by count) and ristretto (admission by sampled frequency, sets applied
// asynchronously) do not offer with a hard cap. It is safe for concurrent use.
type byteLRU[K comparable, V any] struct {
	mu     sync.Mutex
	budget int
	used   int
	size   func(V) int
	lru    *simplelru.LRU[K, V] // unbounded in count; add evicts by bytes
}

// newByteLRU returns a cache that keeps values up to budget bytes as size counts them.
func newByteLRU[K comparable, V any](budget int, size func(V) int) *byteLRU[K, V] {
	c := &byteLRU[K, V]{budget: max(budget, 0), size: size}
	// The callback runs for every removal, eviction or not, under c.mu.
	c.lru, _ = simplelru.NewLRU(math.MaxInt, func(_ K, v V) { c.used -= size(v) })
	return c
}

// get returns k's value and makes it the most recently used.
func (c *byteLRU[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Get(k)
}

// add stores v under k, replacing what k held, and evicts the least recently used values past
// the budget. A value larger than the whole budget is not kept (and k then holds nothing).
func (c *byteLRU[K, V]) add(k K, v V) {
	n := c.size(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(k)
	if n > c.budget {
		return
	}
	c.lru.Add(k, v)
	c.used += n
	for c.used > c.budget {
		c.lru.RemoveOldest()
	}
}

// remove drops k's value.
func (c *byteLRU[K, V]) remove(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Remove(k)
}

// usage reports the bytes held and the number of values.
func (c *byteLRU[K, V]) usage() (bytes, values int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.lru.Len()
}
