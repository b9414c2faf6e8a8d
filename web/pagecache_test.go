package web

import (
	"bytes"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// A build that lands while a page renders may have changed it: that render answers its own
// request but is not kept.
func TestPageCacheDropsRenderRacingABuild(t *testing.T) {
	c := newPageCache("Asia/Shanghai")
	renders := 0
	render := func(during func()) func() (*page, error) {
		return func() (*page, error) {
			renders++
			if during != nil {
				during()
			}
			return newPage([]byte("<p>零陵</p>"), time.Time{}), nil
		}
	}
	build := func() { c.changed([]syndicate.Document{{Channel: "qiyang"}}) }
	if _, err := c.get("lingling", render(build)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.get("lingling", render(nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.get("lingling", render(nil)); err != nil {
		t.Fatal(err)
	}
	if renders != 2 {
		t.Errorf("%d renders, want 2: the racing one dropped, the next kept", renders)
	}
	if c.zone.String() != "Asia/Shanghai" {
		t.Errorf("zone %s", c.zone)
	}
}

// The cache holds at most pageCacheBytes of pages, however many channels are asked for, and
// keeps the most recently used.
func TestPageCacheBounded(t *testing.T) {
	c := newPageCache("")
	body := bytes.Repeat([]byte("零陵新闻 "), pageCacheBytes/3/len("零陵新闻 ")) // a third of the bound, gzip shrinks it
	for _, key := range []string{"a", "b", "c", "d", "e"} {
		if _, err := c.get(key, func() (*page, error) { return newPage(body, time.Time{}), nil }); err != nil {
			t.Fatal(err)
		}
		if used, _ := c.pages.usage(); used > pageCacheBytes {
			t.Fatalf("after %s: %d bytes kept, bound %d", key, used, pageCacheBytes)
		}
	}
	if _, ok := c.pages.get("e"); !ok {
		t.Error("the newest page is not kept")
	}
	if _, ok := c.pages.get("a"); ok {
		t.Error("the least recently used page is still kept past the bound")
	}
}
