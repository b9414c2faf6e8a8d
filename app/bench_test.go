package app_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	syndicate "github.com/yongzhou-news/syndicate"
	builder "github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/sanitize"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// The scale-out benchmark: 1,000 channels (20 parents × 49 children, plus the site-wide feed)
// with 50 items each, from a store of 100,000 articles (100 per channel). Articles carry a 1.5 KB
// excerpt of the portal's story. SYNDICATE_BENCH_ARTICLES shrinks the store for a quick run;
// SYNDICATE_BENCH_DIR (SQLite) and SYNDICATE_BENCH_PG_SCHEMA (PostgreSQL) keep the filled store
// for the next run.
const (
	benchParents  = 20
	benchChildren = 49
)

func benchTree(b *testing.B) *syndicate.Tree {
	var chans []syndicate.Channel
	for p := range benchParents {
		parent := fmt.Sprintf("p%02d", p)
		chans = append(chans, syndicate.Channel{Slug: parent, Title: "频道 " + parent, Schedule: "*/5 * * * *", Limit: 50})
		for c := range benchChildren {
			slug := fmt.Sprintf("%s-c%02d", parent, c)
			chans = append(chans, syndicate.Channel{Slug: slug, Title: "子频道 " + slug, Parent: parent, Schedule: "*/5 * * * *", Limit: 50})
		}
	}
	tree, err := syndicate.NewTree(chans)
	if err != nil {
		b.Fatal(err)
	}
	return tree
}

func benchArticles() int {
	if n, err := strconv.Atoi(os.Getenv("SYNDICATE_BENCH_ARTICLES")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// fill stores n articles spread over the channels, unless the store already holds them.
func fill(b *testing.B, st store.Store, tree *syndicate.Tree, n int) bool {
	ctx := context.Background()
	if have, err := st.ArticleCount(ctx); err != nil {
		b.Fatal(err)
	} else if have >= int64(n) && sanitized(b, st, tree) {
		return false
	}
	raw, err := os.ReadFile("../demo/lingling-article.json")
	if err != nil {
		b.Fatal(err)
	}
	story, err := syndicate.DecodeArticle(raw)
	if err != nil {
		b.Fatal(err)
	}
	excerpt := string([]rune(story.ContentHTML)[:500]) // about 1.5 KB of UTF-8
	slugs := tree.Slugs()
	base := time.Date(2022, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				a := syndicate.Article{
					ID: fmt.Sprintf("bench-%06d", i), Title: fmt.Sprintf("%s（%d）", story.Title, i), Summary: story.Summary,
					ContentHTML: excerpt, Authors: story.Authors, Source: story.Source,
					Channels: []string{slugs[int(i)%len(slugs)]}, PublishedAt: base.Add(time.Duration(i) * time.Minute),
				}
				a.Normalize()
				a.Sanitized = sanitize.HTML(a.ContentHTML) // as ingest.Import does
				if _, err := st.UpsertArticle(ctx, a); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return true
}

// sanitized reports whether the store's articles carry content sanitised under the current
// policy; a store filled before they did is filled again (the upserts change only that).
func sanitized(b *testing.B, st store.Store, tree *syndicate.Tree) bool {
	items, err := st.NewestItems(context.Background(), tree.Slugs()[:1], 1)
	if err != nil {
		b.Fatal(err)
	}
	return len(items) == 1 && items[0].Sanitized.Policy == sanitize.Policy
}

func benchBuilder(st store.Store, tree *syndicate.Tree) *builder.Builder {
	return &builder.Builder{
		Store: st, Tree: tree, SubjectPrefix: "syndicate", SiteSchedule: "*/5 * * * *", SiteLimit: 50,
		Site: syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", Language: "zh-CN", Timezone: "Asia/Shanghai", TagDate: "2026"},
	}
}

// rebuildAll runs every channel's build job (and the site-wide feed's) at once, as a cron tick
// starts them; the Builder lets GOMAXPROCS of them read and render at a time, as in the service.
// It returns how many rendered new documents.
func rebuildAll(b *testing.B, bl *builder.Builder, slugs []string) int {
	var rendered atomic.Int64
	var wg sync.WaitGroup
	for _, slug := range slugs {
		wg.Go(func() {
			r, err := bl.Build(context.Background(), slug)
			if err != nil {
				b.Error(err)
				return
			}
			if r.Rendered {
				rendered.Add(1)
			}
		})
	}
	wg.Wait()
	return int(rendered.Load())
}

// peakHeap samples the heap while fn runs.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	return peak.Load()
}

// benchRebuild measures rebuilds of a store that has been built before, as a running service's
// is. settle runs after the store was filled: it does what the engine does by itself in the
// minutes after a bulk load (a WAL checkpoint, a vacuum), which a build started at once would
// otherwise measure.
func benchRebuild(b *testing.B, st store.Store, settle func() error) {
	tree := benchTree(b)
	if fill(b, st, tree, benchArticles()) {
		if err := settle(); err != nil {
			b.Fatal(err)
		}
	}
	slugs := append(tree.Slugs(), syndicate.SiteFeed)
	// Untimed: brings every feed up to date once (on a new store, its first build) so that the
	// timed one below re-renders a built store, whatever the runs before left behind.
	rebuildAll(b, benchBuilder(st, tree), slugs)
	b.Run("full", func(b *testing.B) {
		var heap uint64
		for b.Loop() {
			b.StopTimer()
			bl := benchBuilder(st, tree)
			bl.Site.Description = fmt.Sprint("run ", time.Now().UnixNano()) // a new description: every feed re-renders
			b.StartTimer()
			heap = max(heap, peakHeap(func() {
				if n := rebuildAll(b, bl, slugs); n != len(slugs) {
					b.Fatalf("%d of %d feeds rendered", n, len(slugs))
				}
			}))
		}
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(len(slugs)), "feeds")
	})
	b.Run("incremental", func(b *testing.B) {
		bl := benchBuilder(st, tree)
		rebuildAll(b, bl, slugs) // bring every feed up to date
		ctx := context.Background()
		i := 0
		for b.Loop() {
			b.StopTimer()
			a, err := st.Article(ctx, "bench-000123")
			if err != nil {
				b.Fatal(err)
			}
			i++
			a.Summary = fmt.Sprint("更正 ", i)
			a.Sanitized = sanitize.HTML(a.ContentHTML) // as ingest.Import does
			if _, err := st.UpsertArticle(ctx, a); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			// Every job runs, as on a tick; only the story's channel, its parent and the
			// site-wide feed have anything to render.
			if n := rebuildAll(b, bl, slugs); n > 3 {
				b.Fatalf("%d feeds re-rendered after one edit", n)
			}
		}
	})
}

func BenchmarkRebuildSQLite(b *testing.B) {
	dir := os.Getenv("SYNDICATE_BENCH_DIR") // reuse a filled store between runs
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, "bench.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchRebuild(b, st, func() error {
		db, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
		return err
	})
}

func BenchmarkRebuildPostgres(b *testing.B) {
	var dsn string
	if name := os.Getenv("SYNDICATE_BENCH_PG_SCHEMA"); name != "" { // reuse a filled store between runs
		dsn = postgrestest.KeptSchema(b, postgrestest.DSN(b), name)
	} else {
		dsn = postgrestest.Schema(b, postgrestest.DSN(b))
	}
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchRebuild(b, st, func() error {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		_, err = conn.Exec(context.Background(), `VACUUM ANALYZE`)
		return err
	})
}
