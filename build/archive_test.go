package build_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// The feed's prev-archive follows the number of complete pages: completing one re-renders the
// feed even when its newest items stay the same.
func TestFeedLinksNewestArchivePage(t *testing.T) {
	b, st := newBuilder(t)
	ctx := context.Background()
	add := func(from, to int) {
		for i := from; i < to; i++ {
			upsert(t, st, storetest.Article(fmt.Sprintf("a%03d", i), i, "lingling"))
		}
	}
	prevArchive := func() string {
		t.Helper()
		doc, err := st.Document(ctx, "lingling", syndicate.FormatAtom)
		if err != nil {
			t.Fatal(err)
		}
		// <link href="…" rel="prev-archive" …>: the href comes first.
		before, _, ok := strings.Cut(string(doc.Body), `" rel="prev-archive"`)
		if !ok {
			return ""
		}
		return before[strings.LastIndex(before, `"`)+1:]
	}
	add(0, feed.ArchivePageSize-1)
	mustBuild(t, b, "lingling")
	if got := prevArchive(); got != "" {
		t.Fatalf("feed with %d items links to archive page %q", feed.ArchivePageSize-1, got)
	}
	// Beyond the limit of 3, yet on no complete archive page: the feed holds every item.
	if doc, _ := st.Document(ctx, "lingling", syndicate.FormatAtom); strings.Count(string(doc.Body), "<entry>") != feed.ArchivePageSize-1 {
		t.Fatalf("feed of %d unarchived items holds %d", feed.ArchivePageSize-1, strings.Count(string(doc.Body), "<entry>"))
	}
	// The 50th item completes page 1. Back-dated, it is not even among the feed's newest items:
	// the page count alone must change the documents.
	upsert(t, st, storetest.Article("back-dated", -1000, "lingling"))
	if r := mustBuild(t, b, "lingling"); !r.Rendered {
		t.Fatal("completing archive page 1 did not re-render the feed")
	}
	if got, want := prevArchive(), "http://localhost:8080/feeds/lingling/archive/1.atom"; got != want {
		t.Fatalf("prev-archive %q, want %q", got, want)
	}
	if r := mustBuild(t, b, "lingling"); r.Rendered {
		t.Error("unchanged rebuild re-rendered")
	}
	// Now that page 1 holds them, the feed is back to its newest 3, and an old article edited
	// changes neither them nor the page count: nothing to render.
	if doc, _ := st.Document(ctx, "lingling", syndicate.FormatAtom); strings.Count(string(doc.Body), "<entry>") != 3 {
		t.Errorf("feed with a complete archive page holds %d entries, want 3", strings.Count(string(doc.Body), "<entry>"))
	}
	edited := storetest.Article("a000", 0, "lingling")
	edited.Title = "改过"
	upsert(t, st, edited)
	if r := mustBuild(t, b, "lingling"); r.Rendered {
		t.Error("editing an archived item outside the feed re-rendered it")
	}
	// The parent's feed counts its subtree.
	mustBuild(t, b, "xianshiqu")
	if doc, _ := st.Document(ctx, "xianshiqu", syndicate.FormatJSON); !bytes.Contains(doc.Body, []byte(`"next_url":"http://localhost:8080/feeds/xianshiqu/archive/1.json"`)) {
		t.Errorf("parent's JSON Feed lacks next_url to its archive:\n%s", doc.Body)
	}
}

func TestArchivePages(t *testing.T) {
	b, st := newBuilder(t)
	ctx := context.Background()
	arch := &build.Archive{Store: st, Site: b.Site, Tree: b.Tree, Stylesheets: true}
	// Published newest-first while created oldest-first: pages follow creation.
	for i := range 2*feed.ArchivePageSize + 7 {
		ch := []string{"lingling", "qiyang"}[i%2]
		upsert(t, st, storetest.Article(fmt.Sprintf("a%03d", i), -i, ch))
	}
	for _, tt := range []struct {
		slug string
		n    int
	}{{"xianshiqu", 0}, {"xianshiqu", 3}, {"mars", 1}, {"lingling", 2}} {
		if _, err := arch.Page(ctx, tt.slug, tt.n); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
			t.Errorf("page %d of %s: err = %v, want ENOTFOUND", tt.n, tt.slug, err)
		}
	}
	p, err := arch.Page(ctx, "xianshiqu", 2)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := p.Render(syndicate.FormatAtom)
	if err != nil {
		t.Fatal(err)
	}
	body := string(doc.Body)
	first, last := strings.Index(body, "article/a050<"), strings.Index(body, "article/a099<")
	if first < 0 || last < first || strings.Contains(body, "article/a049<") || strings.Contains(body, "article/a100<") {
		t.Errorf("page 2 does not hold a050…a099 in creation order")
	}
	for _, want := range []string{
		`<link href="http://localhost:8080/feeds/xianshiqu/archive/2.atom" rel="self"`,
		`<link href="http://localhost:8080/feeds/xianshiqu.atom" rel="current"`,
		`<link href="http://localhost:8080/feeds/xianshiqu/archive/1.atom" rel="prev-archive"`,
		`<fh:archive></fh:archive>`,
		`<?xml-stylesheet type="text/xsl" href="http://localhost:8080/xsl/atom.xsl"?>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page 2 lacks %s", want)
		}
	}
	if strings.Contains(body, "next-archive") {
		t.Error("the newest page links to a next archive page")
	}
	// Modified is the newest item's update (a050 was published first of the page), not a clock.
	if want := storetest.Article("a050", -50, "lingling").UpdatedAt.UTC(); !doc.Modified.Equal(want) {
		t.Errorf("Modified %v, want %v", doc.Modified, want)
	}

	// Reading and rendering again gives the same fingerprint and bytes.
	again, err := arch.Page(ctx, "xianshiqu", 2)
	if err != nil {
		t.Fatal(err)
	}
	doc2, _ := again.Render(syndicate.FormatAtom)
	if again.Fingerprint != p.Fingerprint || doc2.ETag != doc.ETag {
		t.Error("the same page read twice differs")
	}
	// An edit on the page shows, and changes the fingerprint; one on another page does not.
	other := storetest.Article("a000", 0, "lingling")
	other.Title = "改过"
	upsert(t, st, other)
	if again, _ = arch.Page(ctx, "xianshiqu", 2); again.Fingerprint != p.Fingerprint {
		t.Error("an edit on page 1 changed page 2's fingerprint")
	}
	mine := storetest.Article("a060", -60, "lingling")
	mine.Title = "改过"
	upsert(t, st, mine)
	if again, _ = arch.Page(ctx, "xianshiqu", 2); again.Fingerprint == p.Fingerprint {
		t.Error("an edit on page 2 kept its fingerprint")
	}
	// Completing page 3 gives page 2 a next-archive link, and leaves page 1 as it was.
	one, _ := arch.Page(ctx, "xianshiqu", 1)
	for i := range feed.ArchivePageSize - 7 {
		upsert(t, st, storetest.Article(fmt.Sprintf("b%03d", i), i, "qiyang"))
	}
	if again, _ := arch.Page(ctx, "xianshiqu", 1); again.Fingerprint != one.Fingerprint {
		t.Error("completing page 3 changed page 1's fingerprint")
	}
	two, err := arch.Page(ctx, "xianshiqu", 2)
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := two.Render(syndicate.FormatRSS); !bytes.Contains(doc.Body, []byte(`<atom:link href="http://localhost:8080/feeds/xianshiqu/archive/3.rss" rel="next-archive"`)) {
		t.Errorf("page 2 lacks next-archive to page 3:\n%.1500s", doc.Body)
	}

	// The site-wide feed's archive holds every channel.
	site, err := arch.Page(ctx, syndicate.SiteFeed, 2)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := site.Render(syndicate.FormatJSON)
	if !bytes.Contains(j.Body, []byte(`"next_url":"http://localhost:8080/feeds/all/archive/1.json"`)) || !bytes.Contains(j.Body, []byte(`"feed_url":"http://localhost:8080/feeds/all.json"`)) {
		t.Errorf("site archive page 2 in JSON:\n%.600s", j.Body)
	}
}

// countingStore counts ArchiveCount, ArchiveSlot and ArchiveAfter calls on a real store.
type countingStore struct {
	*sqlite.DB
	counts, slots, tails int
}

func (c *countingStore) ArchiveAfter(ctx context.Context, channels []string, seq int64, except []string) ([]syndicate.Article, error) {
	c.tails++
	return c.DB.ArchiveAfter(ctx, channels, seq, except)
}

func (c *countingStore) ArchiveSlot(ctx context.Context, channels []string, n int) (int64, error) {
	c.slots++
	return c.DB.ArchiveSlot(ctx, channels, n)
}

func (c *countingStore) ArchiveCount(ctx context.Context, channels []string) (int, error) {
	c.counts++
	return c.DB.ArchiveCount(ctx, channels)
}

// Counting an archive reads every filing of the subtree, so a build recounts only when an article
// was filed in it or left it; the page count still follows every such change.
func TestArchiveCountFollowsFilingsOnly(t *testing.T) {
	b, st := newBuilder(t)
	cs := &countingStore{DB: st}
	b.Store = cs
	for i := range feed.ArchivePageSize {
		upsert(t, st, storetest.Article(fmt.Sprintf("a%03d", i), i, "lingling"))
	}
	pages := func(slug string) int {
		t.Helper()
		before := cs.counts
		mustBuild(t, b, slug)
		doc, err := st.Document(context.Background(), slug, syndicate.FormatAtom)
		if err != nil {
			t.Fatal(err)
		}
		if cs.counts > before+1 {
			t.Fatalf("one build of %s counted %d times", slug, cs.counts-before)
		}
		return strings.Count(string(doc.Body), `rel="prev-archive"`)
	}
	recounted := func(step string, want bool, slug string) {
		t.Helper()
		before := cs.counts
		mustBuild(t, b, slug)
		if got := cs.counts > before; got != want {
			t.Errorf("%s: build of %s recounted %v, want %v", step, slug, got, want)
		}
	}
	if pages("lingling") != 1 || pages("xianshiqu") != 1 {
		t.Fatal("a complete page is not linked")
	}
	edited := storetest.Article("a001", 1, "lingling")
	edited.Title = "改过"
	upsert(t, st, edited)
	slots := cs.slots
	recounted("an edit", false, "lingling")
	recounted("an edit", false, "xianshiqu")
	// The last slot of the last complete page is read once per page count, not per build.
	if cs.slots != slots {
		t.Errorf("builds after an edit looked up the end of the archive %d times", cs.slots-slots)
	}

	// Moved to the sibling: lingling's page stays complete, one item short (slots are never
	// taken back), and the parent's stays complete too.
	upsert(t, st, storetest.Article("a002", 2, "qiyang"))
	if got := pages("lingling"); got != 1 {
		t.Errorf("after a move out, lingling links %d archive pages, want 1", got)
	}
	if got := pages("xianshiqu"); got != 1 {
		t.Errorf("after a move within the subtree, xianshiqu links %d archive pages, want 1", got)
	}
	// Recounted, but the page count stayed: the end of the complete pages is the one kept.
	if cs.slots != slots {
		t.Errorf("recounts that completed no page looked up the end of the archive %d times", cs.slots-slots)
	}
	recounted("nothing", false, "lingling")

	if err := st.DeleteArticle(context.Background(), "a002"); err != nil {
		t.Fatal(err)
	}
	if got := pages("xianshiqu"); got != 1 {
		t.Errorf("after a deletion, xianshiqu links %d archive pages, want 1", got)
	}
	upsert(t, st, storetest.Article("new", 100, "lingling"))
	if got := pages("lingling"); got != 1 {
		t.Errorf("after a new article, lingling links %d archive pages, want 1", got)
	}
}

// A page whose articles were all deleted stays, empty, in every format: removing it would shift
// the pages after it, and readers walking back must still reach the pages before it.
func TestArchivePageOfDeletedArticles(t *testing.T) {
	b, st := newBuilder(t)
	ctx := context.Background()
	for i := range 2 * feed.ArchivePageSize {
		upsert(t, st, storetest.Article(fmt.Sprintf("a%03d", i), -i, "lingling"))
	}
	for i := range feed.ArchivePageSize {
		if err := st.DeleteArticle(ctx, fmt.Sprintf("a%03d", i)); err != nil {
			t.Fatal(err)
		}
	}
	arch := &build.Archive{Store: st, Site: b.Site, Tree: b.Tree}
	p, err := arch.Page(ctx, "lingling", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range syndicate.Formats {
		doc, err := p.Render(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if bytes.Contains(doc.Body, []byte("article/a0")) {
			t.Errorf("%s: a deleted article is on page 1", f)
		}
		if want := "/feeds/lingling/archive/2." + f; !bytes.Contains(doc.Body, []byte(want)) && f != syndicate.FormatJSON {
			t.Errorf("%s: page 1 does not link to page 2:\n%s", f, doc.Body)
		}
	}
	two, err := arch.Page(ctx, "lingling", 2)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := two.Render(syndicate.FormatJSON)
	if !bytes.Contains(doc.Body, []byte(`"next_url":"http://localhost:8080/feeds/lingling/archive/1.json"`)) || bytes.Count(doc.Body, []byte(`"id":`)) != feed.ArchivePageSize {
		t.Errorf("page 2 in JSON:\n%.600s", doc.Body)
	}
}

// A channel holding fewer articles than its limit has them all among its newest items, so its
// build reads no archive slots after them; past its limit (3 here), with no page complete, the
// slots are read and the feed holds every item.
func TestSmallChannelReadsNoArchiveTail(t *testing.T) {
	b, st := newBuilder(t)
	cs := &countingStore{DB: st}
	b.Store = cs
	entries := func() int {
		t.Helper()
		doc, err := st.Document(context.Background(), "lingling", syndicate.FormatAtom)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(doc.Body), "<entry>")
	}
	for i := range 2 {
		upsert(t, st, storetest.Article(fmt.Sprintf("a%03d", i), i, "lingling"))
	}
	mustBuild(t, b, "lingling")
	if cs.tails != 0 || entries() != 2 {
		t.Errorf("2 articles, limit 3: %d tail reads, %d entries; want 0 and 2", cs.tails, entries())
	}
	for i := 2; i < 5; i++ {
		upsert(t, st, storetest.Article(fmt.Sprintf("a%03d", i), -i, "lingling")) // older than the rest
	}
	mustBuild(t, b, "lingling")
	if cs.tails != 1 || entries() != 5 {
		t.Errorf("5 articles, limit 3, no complete page: %d tail reads, %d entries; want 1 and 5", cs.tails, entries())
	}
}
