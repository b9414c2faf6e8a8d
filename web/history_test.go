package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// historyFeeds are the feeds whose history the test walks: channels, a parent that aggregates
// two of them, and the site-wide feed.
var historyFeeds = []string{"lingling", "qiyang", "xianshiqu", "zhengwu", syndicate.SiteFeed}

var historyFormats = []string{syndicate.FormatRSS, syndicate.FormatAtom, syndicate.FormatJSON}

// history drives an archiveEnv with articles added in an order unlike their dates and keeps the
// model of what is live, by id and channels.
type history struct {
	*archiveEnv
	rng  *rand.Rand
	now  time.Time
	live map[string][]string // id → channels, every undeleted article
	gone map[string]bool     // deleted and not stored again
	next int
}

// TestArchiveHistoryWithoutHoles: walking back from any feed along its archive links gives
// every live article of the feed's channels and no deleted one, in every format, whatever the
// order of additions and dates (back-dated, future-dated within a day, interleaved across
// channels), through deletions, moves between channels and date changes; and a reader that
// cached pages before those changes loses nothing by keeping them.
func TestArchiveHistoryWithoutHoles(t *testing.T) {
	for _, tt := range []struct {
		name string
		open func(t *testing.T) store.Store
	}{
		{"sqlite", func(t *testing.T) store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}},
		{"postgres", func(t *testing.T) store.Store { return postgrestest.Open(t) }},
	} {
		t.Run(tt.name, func(t *testing.T) { testHistory(t, tt.open(t)) })
	}
}

func testHistory(t *testing.T, st store.Store) {
	// A limit far below the page size: most articles are beyond it, where the holes were.
	e := newArchiveEnvOn(t, st, 10)
	e.b.SiteSchedule, e.b.SiteLimit = "*/10 * * * *", 10
	h := &history{archiveEnv: e, rng: rand.New(rand.NewPCG(15, 5005)), now: time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC),
		live: map[string][]string{}, gone: map[string]bool{}}

	h.addRandom(140)
	h.buildAll()
	cached := map[string][]string{} // page URL → ids, as a reader fetched them
	for _, slug := range historyFeeds {
		for _, f := range historyFormats {
			current, pages := h.walkFeed(slug, f)
			h.checkHistory(slug, f, current, pages)
			for _, p := range pages {
				cached[p.url] = p.ids
			}
		}
	}
	if len(cached) < 3*len(historyFeeds) {
		t.Fatalf("only %d archive pages: the walk covers too little", len(cached))
	}

	// Deletions on complete pages and beyond them, moves within a parent, out of it and into
	// it, a filing in a second channel, date changes both ways, a deleted article stored again,
	// and more additions.
	ids := slices.Sorted(maps.Keys(h.live))
	for _, id := range []string{ids[0], ids[7], ids[33], ids[60], ids[101], ids[139]} {
		h.delete(id)
	}
	h.move("lingling", "qiyang")
	h.move("qiyang", "zhengwu")
	h.move("zhengwu", "lingling")
	h.move("lingling", "lingling", "zhengwu")
	h.redate(h.pick("qiyang"), h.now.AddDate(-3, 0, 0))
	h.redate(h.pick("lingling"), h.now.Add(20*time.Hour))
	h.store(ids[33], h.now.AddDate(-1, 0, 0), "qiyang")
	delete(h.gone, ids[33])
	h.addRandom(70)
	h.delete(h.pick("zhengwu"))
	h.buildAll()
	// A replica that loaded the built feeds, and rendered no archive page yet.
	rs := web.New(h.opts)
	for _, slug := range historyFeeds {
		for _, f := range historyFormats {
			doc, err := st.Document(context.Background(), slug, f)
			if err != nil {
				t.Fatal(err)
			}
			if err := rs.Cache().Put(doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	replica := httptest.NewServer(rs.Handler())
	defer replica.Close()

	for _, slug := range historyFeeds {
		for _, f := range historyFormats {
			current, pages := h.walkFeed(slug, f)
			h.checkHistory(slug, f, current, pages)
			// A complete page's slots never change: it can lose deleted and moved articles
			// but gain none, so nothing shifts out of a page a reader cached.
			for _, p := range pages {
				if was, ok := cached[p.url]; ok {
					for _, id := range p.ids {
						if !slices.Contains(was, id) {
							t.Errorf("%s gained %s since a reader cached it", p.url, id)
						}
					}
				}
			}
			h.checkIncremental(slug, f, cached)
			// Pages are a pure function of the store: a replica that never served them renders
			// the same bytes.
			for _, p := range pages {
				_, body := h.get(p.url)
				if resp, got := do(t, "GET", replica.URL+strings.TrimPrefix(p.url, publicBase), ""); resp.StatusCode != 200 || got != string(body) {
					t.Errorf("a replica's %s differs (%d)", p.url, resp.StatusCode)
				}
			}
		}
		h.checkFeedparser(slug)
	}
}

// addRandom stores n new articles in random channels, published at dates unrelated to the order
// they are stored in: years back, within the last month, or up to 23 hours ahead.
func (h *history) addRandom(n int) {
	for range n {
		var published time.Time
		switch h.rng.IntN(5) {
		case 0:
			published = h.now.AddDate(-2, 0, -h.rng.IntN(700))
		case 1:
			published = h.now.Add(time.Duration(1+h.rng.IntN(23*60)) * time.Minute)
		default:
			published = h.now.Add(-time.Duration(h.rng.IntN(30*24*60)) * time.Minute)
		}
		channels := [][]string{{"lingling"}, {"qiyang"}, {"zhengwu"}, {"lingling", "zhengwu"}}[h.rng.IntN(4)]
		h.store(fmt.Sprintf("h%03d", h.next), published, channels...)
		h.next++
	}
}

func (h *history) store(id string, published time.Time, channels ...string) {
	h.t.Helper()
	a := syndicate.Article{ID: id, Title: "标题 " + id, Summary: "摘要", ContentHTML: "<p>正文 " + id + "</p>",
		Authors: []string{"彭沛"}, Channels: channels, PublishedAt: published}
	a.Normalize()
	if _, err := h.st.UpsertArticle(context.Background(), a); err != nil {
		h.t.Fatal(err)
	}
	h.live[id] = channels
}

func (h *history) delete(id string) {
	h.t.Helper()
	if err := h.st.DeleteArticle(context.Background(), id); err != nil {
		h.t.Fatal(err)
	}
	delete(h.live, id)
	h.gone[id] = true
}

// pick returns a random live article filed in channel alone.
func (h *history) pick(channel string) string {
	h.t.Helper()
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(h.live)) {
		if slices.Equal(h.live[id], []string{channel}) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		h.t.Fatalf("no article in %s alone", channel)
	}
	return ids[h.rng.IntN(len(ids))]
}

// move refiles a random article filed in from alone in the channels to, keeping its date.
func (h *history) move(from string, to ...string) {
	h.t.Helper()
	id := h.pick(from)
	a, err := h.st.Article(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	h.store(id, a.PublishedAt, to...)
}

func (h *history) redate(id string, published time.Time) {
	h.t.Helper()
	h.store(id, published, h.live[id]...)
}

func (h *history) buildAll() {
	h.t.Helper()
	for _, slug := range historyFeeds {
		if _, err := h.b.Build(context.Background(), slug); err != nil {
			h.t.Fatal(err)
		}
	}
}

// want returns the ids of the live articles that slug's feed and archive must hold.
func (h *history) want(slug string) map[string]bool {
	subtree := []string{slug}
	switch slug {
	case syndicate.SiteFeed:
		subtree = h.opts.Tree.Slugs()
	case "xianshiqu":
		subtree = h.opts.Tree.Subtree(slug)
	}
	out := map[string]bool{}
	for id, channels := range h.live {
		for _, c := range channels {
			if slices.Contains(subtree, c) {
				out[id] = true
			}
		}
	}
	return out
}

// archivePage is one archive document as the walk fetched it.
type archivePage struct {
	url string
	ids []string // article ids, without the tag: prefix
}

// articleID turns an item's tag URI back into the article id.
func articleID(t *testing.T, tag string) string {
	t.Helper()
	_, id, ok := strings.Cut(tag, ":article/")
	if !ok {
		t.Fatalf("item id %q is not an article tag", tag)
	}
	return id
}

// walkFeed reads slug's feed in format and follows its links to older documents (prev-archive in
// RSS and Atom, next_url in JSON Feed) to the end, checking that they count down to page 1 and
// are served as immutable. It returns the feed's ids and the pages, newest first.
func (h *history) walkFeed(slug, format string) (current []string, pages []archivePage) {
	t := h.t
	t.Helper()
	older := "prev-archive"
	if format == syndicate.FormatJSON {
		older = "next"
	}
	_, body := h.get(h.opts.Site.FeedURL(slug, format))
	sub := parse(t, format, body)
	for _, id := range sub.ids {
		current = append(current, articleID(t, id))
	}
	// The newest limit (10) and what no complete page holds: fewer than a page more.
	if len(current) >= 10+feed.ArchivePageSize {
		t.Errorf("%s.%s holds %d items", slug, format, len(current))
	}
	n := 0
	for next := sub.links[older]; next != ""; {
		var num int
		if _, err := fmt.Sscanf(strings.TrimPrefix(next, publicBase+"/feeds/"+slug+"/archive/"), "%d."+format, &num); err != nil || (n > 0 && num != n-1) {
			t.Fatalf("%s.%s: link to %s after page %d", slug, format, next, n)
		}
		n = num
		resp, body := h.get(next)
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", next, cc)
		}
		p := archivePage{url: next}
		for _, id := range parse(t, format, body).ids {
			p.ids = append(p.ids, articleID(t, id))
		}
		pages = append(pages, p)
		next = parse(t, format, body).links[older]
	}
	if n > 1 {
		t.Errorf("%s.%s: the walk ended at page %d, not 1", slug, format, n)
	}
	return current, pages
}

// checkHistory checks that the feed and its pages hold each live article of the feed exactly
// once after removing repeats, none missing and none deleted, and that the archive pages hold no
// article twice.
func (h *history) checkHistory(slug, format string, current []string, pages []archivePage) {
	t := h.t
	t.Helper()
	seen := map[string]bool{}
	for _, id := range current {
		seen[id] = true
	}
	onPage := map[string]string{}
	for _, p := range pages {
		for _, id := range p.ids {
			if was, dup := onPage[id]; dup {
				t.Errorf("%s.%s: %s is on %s and %s", slug, format, id, was, p.url)
			}
			onPage[id], seen[id] = p.url, true
		}
	}
	want := h.want(slug)
	for id := range want {
		if !seen[id] {
			t.Errorf("%s.%s: live article %s (%v) is in neither the feed nor its %d archive pages", slug, format, id, h.live[id], len(pages))
		}
	}
	for id := range seen {
		switch {
		case h.gone[id]:
			t.Errorf("%s.%s: deleted article %s is still served", slug, format, id)
		case !want[id]:
			t.Errorf("%s.%s: %s (%v) does not belong to the feed", slug, format, id, h.live[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%s.%s: %d distinct items, want %d", slug, format, len(seen), len(want))
	}
}

// checkIncremental reads the feed as a reader that kept the pages it fetched before (RFC 5005
// §4.2): it follows the links only until a page it has, and must then hold every live article.
func (h *history) checkIncremental(slug, format string, cached map[string][]string) {
	t := h.t
	t.Helper()
	older := "prev-archive"
	if format == syndicate.FormatJSON {
		older = "next"
	}
	have := map[string]bool{}
	for url, ids := range cached {
		if strings.HasPrefix(url, publicBase+"/feeds/"+slug+"/archive/") && strings.HasSuffix(url, "."+format) {
			for _, id := range ids {
				have[id] = true
			}
		}
	}
	_, body := h.get(h.opts.Site.FeedURL(slug, format))
	doc := parse(t, format, body)
	for {
		for _, id := range doc.ids {
			have[articleID(t, id)] = true
		}
		next := doc.links[older]
		if _, ok := cached[next]; next == "" || ok {
			break
		}
		_, body := h.get(next)
		doc = parse(t, format, body)
	}
	for id := range h.want(slug) {
		if !have[id] {
			t.Errorf("%s.%s: a reader that kept its pages misses %s", slug, format, id)
		}
	}
}

// feedparserIDs prints, for each file, feedparser's bozo flag and the entry ids.
const feedparserIDs = `
import json, sys
import feedparser
out = []
for path in sys.argv[1:]:
    d = feedparser.parse(path)
    out.append({"bozo": int(d.bozo), "error": str(d.get("bozo_exception", "")), "ids": [e.get("id", "") for e in d.entries]})
print(json.dumps(out))
`

// checkFeedparser walks slug's RSS and Atom history again and reads every document with the
// Universal Feed Parser, which must find them well-formed and, together, every live article.
func (h *history) checkFeedparser(slug string) {
	t := h.t
	t.Helper()
	const python = "/usr/bin/python3" // Debian's, where apt installs python3-feedparser
	if err := exec.Command(python, "-c", "import feedparser").Run(); err != nil {
		t.Logf("feedparser check skipped: %s has no feedparser (apt-get install python3-feedparser)", python)
		return
	}
	dir := t.TempDir()
	for _, f := range []string{syndicate.FormatRSS, syndicate.FormatAtom} {
		_, pages := h.walkFeed(slug, f)
		urls := []string{h.opts.Site.FeedURL(slug, f)}
		for _, p := range pages {
			urls = append(urls, p.url)
		}
		var files []string
		for i, u := range urls {
			_, body := h.get(u)
			name := filepath.Join(dir, fmt.Sprintf("%s-%d.%s", slug, i, f))
			if err := os.WriteFile(name, body, 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, name)
		}
		out, err := exec.Command(python, append([]string{"-c", feedparserIDs}, files...)...).Output()
		if err != nil {
			t.Fatalf("feedparser: %v", err)
		}
		var docs []struct {
			Bozo  int
			Error string
			IDs   []string
		}
		if err := json.Unmarshal(out, &docs); err != nil {
			t.Fatalf("feedparser output %q: %v", out, err)
		}
		seen := map[string]bool{}
		for i, d := range docs {
			if d.Bozo != 0 {
				t.Errorf("feedparser: %s is not well-formed: %s", urls[i], d.Error)
			}
			for _, id := range d.IDs {
				seen[articleID(t, id)] = true
			}
		}
		want := h.want(slug)
		for id := range want {
			if !seen[id] {
				t.Errorf("feedparser %s.%s: %s missing from the feed and its archive", slug, f, id)
			}
		}
		if len(seen) != len(want) {
			t.Errorf("feedparser %s.%s: %d distinct items, want %d", slug, f, len(seen), len(want))
		}
	}
}
