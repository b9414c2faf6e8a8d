package web

import (
	"testing"

	"github.com/yongzhou-news/syndicate/bench/feeddata"
)

// BenchmarkIdentityHit is the identity-body cache's part of an identity request: a hit on the
// 零陵 channel's 50-item RSS body, alone and from all CPUs at once.
func BenchmarkIdentityHit(b *testing.B) {
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
	var entries []*cached
	for _, d := range docs {
		e, _ := c.get(d.Channel + "." + d.Format)
		if e.body == nil {
			entries = append(entries, e)
		}
		if _, err := e.identityBody(); err != nil {
			b.Fatal(err)
		}
	}
	if len(entries) == 0 {
		b.Fatal("no document is held gzipped only")
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			entries[i%len(entries)].identityBody()
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				entries[i%len(entries)].identityBody()
				i++
			}
		})
	})
}
