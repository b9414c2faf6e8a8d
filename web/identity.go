package web

import (
	"container/list"
	"sync"

	syndicate "github.com/yongzhou-news/syndicate"
)

// DefaultIdentityCacheBytes is the default budget of identity bodies kept in memory.
const DefaultIdentityCacheBytes = 16 << 20

// identityCache keeps the uncompressed bodies of recently requested feeds, up to a byte budget.
// The feed cache holds every document gzip-compressed only: feed readers ask for gzip, and a
// thousand channels' identity bodies would take gigabytes where their gzip takes tens of
// megabytes. A client without gzip gets the body inflated once and then, while it stays among
// the recently used, the same precomputed bytes as everyone else.
type identityCache struct {
	mu     sync.Mutex
	budget int // bytes; 0 keeps nothing
	used   int
	order  *list.List // of *identityBody, most recently used first
	at     map[*cached]*list.Element
}

type identityBody struct {
	e    *cached
	body []byte
}

func newIdentityCache(budget int) *identityCache {
	return &identityCache{budget: max(budget, 0), order: list.New(), at: map[*cached]*list.Element{}}
}

// body returns e's identity bytes.
func (c *identityCache) body(e *cached) ([]byte, error) {
	c.mu.Lock()
	if el, ok := c.at[e]; ok {
		c.order.MoveToFront(el)
		b := el.Value.(*identityBody).body
		c.mu.Unlock()
		return b, nil
	}
	c.mu.Unlock()
	// Inflated outside the lock: two requests may both inflate a new body, which is cheaper than
	// making every identity request wait for one.
	b, err := syndicate.Gunzip(e.gzipped, e.size)
	if err != nil {
		return nil, err
	}
	c.add(e, b)
	return b, nil
}

func (c *identityCache) add(e *cached, b []byte) {
	if len(b) > c.budget {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.at[e]; ok {
		return
	}
	c.at[e] = c.order.PushFront(&identityBody{e, b})
	c.used += len(b)
	for c.used > c.budget {
		c.removeLocked(c.order.Back())
	}
}

// forget drops e's body: a build replaced the document.
func (c *identityCache) forget(e *cached) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.at[e]; ok {
		c.removeLocked(el)
	}
}

func (c *identityCache) removeLocked(el *list.Element) {
	ib := c.order.Remove(el).(*identityBody)
	delete(c.at, ib.e)
	c.used -= len(ib.body)
}

// usage reports the bytes held and the number of bodies.
func (c *identityCache) usage() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used, c.order.Len()
}
