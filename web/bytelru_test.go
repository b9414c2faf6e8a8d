package web

import (
	"slices"
	"sync"
	"testing"
)

// TestByteLRUBoundsBytes: the cache holds at most its budget in bytes, evicting the least
// recently used (a get counts as a use), replaces a key's value, and keeps nothing too large.
func TestByteLRUBoundsBytes(t *testing.T) {
	c := newByteLRU[string](10, func(s string) int { return len(s) })
	held := func() []string {
		var keys []string
		for _, k := range []string{"a", "b", "c", "d", "big"} {
			if _, ok := c.lru.Peek(k); ok {
				keys = append(keys, k)
			}
		}
		return keys
	}
	steps := []struct {
		do    func()
		keys  []string
		bytes int
	}{
		{func() { c.add("a", "aaaa") }, []string{"a"}, 4},
		{func() { c.add("b", "bbbb") }, []string{"a", "b"}, 8},
		{func() { c.get("a") }, []string{"a", "b"}, 8},
		{func() { c.add("c", "cc") }, []string{"a", "b", "c"}, 10},
		{func() { c.add("d", "d") }, []string{"a", "c", "d"}, 7},              // b was the least recently used
		{func() { c.add("a", "aaaaaaa") }, []string{"a", "c", "d"}, 10},       // replaced, in place of its old bytes
		{func() { c.add("big", "0123456789x") }, []string{"a", "c", "d"}, 10}, // over the whole budget
		{func() { c.add("a", "0123456789x") }, []string{"c", "d"}, 3},         // too large: a holds nothing
		{func() { c.add("b", "bbbbbbbb") }, []string{"b", "d"}, 9},
		{func() { c.remove("d") }, []string{"b"}, 8},
	}
	for i, s := range steps {
		s.do()
		bytes, n := c.usage()
		if keys := held(); !slices.Equal(keys, s.keys) || bytes != s.bytes || n != len(s.keys) {
			t.Fatalf("step %d: holds %v in %d bytes (%d values); want %v in %d", i+1, keys, bytes, n, s.keys, s.bytes)
		}
	}
}

// TestByteLRUConcurrent: concurrent use keeps the byte count exact (run with -race).
func TestByteLRUConcurrent(t *testing.T) {
	c := newByteLRU[int](100, func(b []byte) int { return len(b) })
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				k := (i*7 + g) % 50
				if _, ok := c.get(k); !ok {
					c.add(k, make([]byte, k%13))
				}
				if i%17 == 0 {
					c.remove(k)
				}
			}
		})
	}
	wg.Wait()
	bytes, n := c.usage()
	sum := 0
	for _, v := range c.lru.Values() {
		sum += len(v)
	}
	if bytes != sum || n != c.lru.Len() || bytes > 100 {
		t.Fatalf("usage %d bytes, %d values; values sum to %d", bytes, n, sum)
	}
}
