package build_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

func newBuilder(t *testing.T) (*build.Builder, *sqlite.DB) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tree, err := syndicate.NewTree([]syndicate.Channel{
		{Slug: "xianshiqu", Title: "县市区", Schedule: "*/10 * * * *", Limit: 3},
		{Slug: "lingling", Title: "零陵", Parent: "xianshiqu", Schedule: "*/10 * * * *", Limit: 3},
		{Slug: "qiyang", Title: "祁阳", Parent: "xianshiqu", Schedule: "@hourly", Limit: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	b := &build.Builder{
		Store: st, Tree: tree, SubjectPrefix: "syndicate",
		Site: syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", Language: "zh-CN", Timezone: "Asia/Shanghai", TagDate: "2026"},
		Now:  func() time.Time { now = now.Add(time.Minute); return now },
	}
	return b, st
}

func mustBuild(t *testing.T, b *build.Builder, slug string) build.Result {
	t.Helper()
	r, err := b.Build(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func upsert(t *testing.T, st store.Store, a syndicate.Article) {
	t.Helper()
	if _, err := st.UpsertArticle(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// pending returns the types of unsent events by subject, and marks them sent.
func pending(t *testing.T, st store.Store) map[string][]string {
	t.Helper()
	rows, err := st.PendingEvents(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	var seqs []int64
	for _, r := range rows {
		var ev syndicate.CloudEvent
		if err := json.Unmarshal(r.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		key := "syndicate.items." + strings.Join(ev.Data.ChannelPath, ".") // every type of the channel together
		out[key] = append(out[key], ev.Type+" "+ev.Data.ArticleID)
		seqs = append(seqs, r.Seq)
	}
	st.MarkSent(context.Background(), seqs, time.Now())
	return out
}

func TestBuildLifecycle(t *testing.T) {
	b, st := newBuilder(t)
	ling := "syndicate.items.xianshiqu.lingling"
	for i := range 5 {
		upsert(t, st, storetest.Article(fmt.Sprintf("l%d", i), i, "lingling"))
	}
	upsert(t, st, storetest.Article("q0", 10, "qiyang"))

	r := mustBuild(t, b, "lingling")
	// The 3 newest (limit), and l0 and l1, which are on no complete archive page yet (feedItems).
	if !r.Rendered || r.Items != 5 || r.Events != 5 || len(r.Documents) != 3 {
		t.Fatalf("first build = %+v; want 5 items (limit and the unarchived rest) and 5 events", r)
	}
	if got := pending(t, st)[ling]; len(got) != 5 || got[0] != syndicate.EventPublished+" l0" {
		t.Errorf("events %v", got)
	}
	doc, err := st.Document(context.Background(), "lingling", syndicate.FormatAtom)
	if err != nil || doc.ETag != syndicate.ETagOf(doc.Body) {
		t.Fatalf("saved atom document: %v", err)
	}

	parent := mustBuild(t, b, "xianshiqu")
	if parent.Items != 6 || parent.Events != 0 {
		t.Errorf("parent build = %+v; want its descendants' 6 unarchived items and no events", parent)
	}
	if len(pending(t, st)) != 0 {
		t.Error("the parent emitted events for its children's items")
	}

	r = mustBuild(t, b, "lingling")
	if r.Rendered || r.Events != 0 {
		t.Errorf("unchanged rebuild = %+v; want nothing written", r)
	}
	if again, _ := st.Document(context.Background(), "lingling", syndicate.FormatAtom); again.ETag != doc.ETag || !again.Modified.Equal(doc.Modified) {
		t.Error("unchanged rebuild changed the saved document")
	}

	// An edit beyond the limit is announced, and shows in the feed, which holds l0 until its
	// archive page is complete.
	old := storetest.Article("l0", 0, "lingling")
	old.Summary = "更正"
	upsert(t, st, old)
	r = mustBuild(t, b, "lingling")
	if !r.Rendered || r.Events != 1 {
		t.Errorf("edit beyond the limit = %+v; want one event and new documents", r)
	}
	if got := pending(t, st)[ling]; len(got) != 1 || got[0] != syndicate.EventUpdated+" l0" {
		t.Errorf("events %v", got)
	}

	// Move l4 to 祁阳, delete l3: 零陵 announces two removals, 祁阳 one publication.
	upsert(t, st, storetest.Article("l4", 4, "qiyang"))
	if err := st.DeleteArticle(context.Background(), "l3"); err != nil {
		t.Fatal(err)
	}
	mustBuild(t, b, "lingling")
	mustBuild(t, b, "qiyang")
	ev := pending(t, st)
	if got := ev[ling]; len(got) != 2 || got[0] != syndicate.EventRemoved+" l4" || got[1] != syndicate.EventRemoved+" l3" {
		t.Errorf("零陵 events %v", got)
	}
	if got := ev["syndicate.items.xianshiqu.qiyang"]; len(got) != 2 || got[1] != syndicate.EventPublished+" l4" {
		t.Errorf("祁阳 events %v (q0 first, then l4)", got)
	}
	r = mustBuild(t, b, "lingling")
	if r.Events != 0 || r.Rendered {
		t.Errorf("rebuild after removals = %+v", r)
	}
}

func TestUnknownChannel(t *testing.T) {
	b, _ := newBuilder(t)
	if _, err := b.Build(context.Background(), "mars"); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
		t.Errorf("err = %v, want ENOTFOUND", err)
	}
}

func TestSiteFeedHoldsEveryChannelAndEmitsNothing(t *testing.T) {
	b, st := newBuilder(t)
	b.SiteSchedule, b.SiteLimit = "@every 5m", 10
	upsert(t, st, storetest.Article("l", 1, "lingling"))
	upsert(t, st, storetest.Article("q", 2, "qiyang"))
	r := mustBuild(t, b, syndicate.SiteFeed)
	if r.Items != 2 || r.Events != 0 || !r.Rendered {
		t.Errorf("site feed build = %+v", r)
	}
	if len(pending(t, st)) != 0 {
		t.Error("the site-wide feed emitted events")
	}
	if r := mustBuild(t, b, syndicate.SiteFeed); r.Rendered {
		t.Error("unchanged site feed re-rendered")
	}
}

// probeStore measures how builds use a real store: the most NewestItems calls at once, and how
// many LastChange queries were made.
type probeStore struct {
	*sqlite.DB
	mu          sync.Mutex
	now, peak   int
	lastChanges atomic.Int64
	slowNewest  time.Duration
	// slowLastChange stands for a round trip to a database server.
	slowLastChange time.Duration
}

func (p *probeStore) NewestItems(ctx context.Context, channels []string, limit int) ([]syndicate.Article, error) {
	p.mu.Lock()
	p.now++
	p.peak = max(p.peak, p.now)
	p.mu.Unlock()
	time.Sleep(p.slowNewest)
	defer func() { p.mu.Lock(); p.now--; p.mu.Unlock() }()
	return p.DB.NewestItems(ctx, channels, limit)
}

func (p *probeStore) LastChange(ctx context.Context) (int64, error) {
	p.lastChanges.Add(1)
	time.Sleep(p.slowLastChange)
	return p.DB.LastChange(ctx)
}

// A tick starts every job at once: builds take turns beyond Concurrency, and the clean ones
// share their questions to the store.
func TestTickOfManyChannels(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var chans []syndicate.Channel
	for i := range 40 {
		chans = append(chans, syndicate.Channel{Slug: fmt.Sprintf("c%02d", i), Title: fmt.Sprint("频道", i), Schedule: "@hourly", Limit: 5})
	}
	tree, err := syndicate.NewTree(chans)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		upsert(t, st, storetest.Article(fmt.Sprint("a", i), i, fmt.Sprintf("c%02d", i)))
	}
	p := &probeStore{DB: st, slowNewest: 5 * time.Millisecond, slowLastChange: time.Millisecond}
	b := &build.Builder{Store: p, Tree: tree, SubjectPrefix: "syndicate", Concurrency: 3,
		Site: syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", TagDate: "2026"}}
	tick := func() int {
		var wg sync.WaitGroup
		var rendered atomic.Int64
		for _, c := range chans {
			wg.Go(func() {
				r, err := b.Build(context.Background(), c.Slug)
				if err != nil {
					t.Error(err)
				}
				if r.Rendered {
					rendered.Add(1)
				}
			})
		}
		wg.Wait()
		return int(rendered.Load())
	}
	if n := tick(); n != 40 {
		t.Fatalf("first tick rendered %d of 40 channels", n)
	}
	if p.peak > 3 {
		t.Errorf("%d builds read items at once, Concurrency is 3", p.peak)
	}
	p.lastChanges.Store(0)
	if n := tick(); n != 0 {
		t.Fatalf("idle tick rendered %d channels", n)
	}
	if n := p.lastChanges.Load(); n >= 20 {
		t.Errorf("an idle tick of 40 jobs asked the store for its newest change %d times", n)
	}
	// A change between ticks is seen by the next one.
	edited := storetest.Article("a7", 7, "c07")
	edited.Title = "更正"
	upsert(t, st, edited)
	if n := tick(); n != 1 {
		t.Errorf("tick after one edit rendered %d channels, want 1", n)
	}
}
