package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

func TestConformance(t *testing.T) {
	postgrestest.DSN(t) // skip once here rather than in every subtest
	storetest.Run(t, func(t *testing.T) store.Store { return postgrestest.Open(t) })
}

// Replicas starting together on an empty schema all come up, and the migration runs once.
func TestConcurrentOpen(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx := context.Background()
	const replicas = 4
	start := make(chan struct{})
	errs := make(chan error, replicas)
	var wg sync.WaitGroup
	for range replicas {
		wg.Go(func() {
			<-start
			s, err := postgres.Open(ctx, dsn)
			if err == nil {
				s.Close()
			}
			errs <- err
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var applied, counters int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM schema_migrations),
		(SELECT count(*) FROM change_counter)`).Scan(&applied, &counters); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if applied != len(files) || counters != 1 {
		t.Errorf("after %d concurrent opens: %d migrations recorded, %d change counter rows; want %d and 1", replicas, applied, counters, len(files))
	}
}

// Migrations apply to an empty schema, and reopening applies none twice and keeps the data.
func TestReopenKeepsData(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertArticle(ctx, storetest.Article("keep", 0, "lingling")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if _, err := s.Article(ctx, "keep"); err != nil {
		t.Errorf("article lost on reopen: %v", err)
	}
}

// The JSON column keeps what jsonb would refuse or rewrite: a NUL in a string, and the offset;
// zero times come back zero.
func TestRoundTrip(t *testing.T) {
	s := postgrestest.Open(t)
	ctx := context.Background()
	a := storetest.Article("nul", 0, "lingling")
	a.ContentHTML = "<p>a\x00b</p>"
	if _, err := s.UpsertArticle(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, err := s.Article(ctx, "nul")
	if err != nil {
		t.Fatal(err)
	}
	if got.ContentHTML != a.ContentHTML || got.PublishedAt.Format(time.RFC3339Nano) != a.PublishedAt.Format(time.RFC3339Nano) {
		t.Errorf("round trip: content %q at %v, want %q at %v", got.ContentHTML, got.PublishedAt, a.ContentHTML, a.PublishedAt)
	}

	// Zero times stay zero ("never"), as in SQLite.
	if err := s.SaveSourceState(ctx, store.SourceState{Name: "new", ETag: `"x"`}); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitBuild(ctx, store.Build{Channel: "lingling", State: store.BuildState{LastChange: 1}}); err != nil {
		t.Fatal(err)
	}
	src, err := s.SourceState(ctx, "new")
	if err != nil || !src.CheckedAt.IsZero() {
		t.Errorf("SourceState = %+v, %v; want zero CheckedAt", src, err)
	}
	st, err := s.BuildState(ctx, "lingling")
	if err != nil || !st.BuiltAt.IsZero() {
		t.Errorf("BuildState = %+v, %v; want zero BuiltAt", st, err)
	}
}

// Builds that follow LastChange and Changes while several writers upsert must see every change: a
// change number that became visible after a higher one had been read would be skipped for good.
func TestChangesMissNothingUnderConcurrentWrites(t *testing.T) {
	s := postgrestest.Open(t)
	ctx := context.Background()
	const writers, perWriter = 8, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				a := storetest.Article(fmt.Sprintf("w%d-%d", w, i), i, "lingling")
				if _, err := s.UpsertArticle(ctx, a); err != nil {
					t.Errorf("upsert %s: %v", a.ID, err)
					return
				}
				if i%5 == 0 { // an update moves the article to a newer change number
					a.Summary = "改过"
					if _, err := s.UpsertArticle(ctx, a); err != nil {
						t.Errorf("update %s: %v", a.ID, err)
						return
					}
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	defer func() { <-done }() // a failed check must not close the store under the writers

	seen := map[string]bool{}
	var since int64
	build := func() {
		upTo, err := s.LastChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if upTo < since {
			t.Fatalf("LastChange went back from %d to %d", since, upTo)
		}
		cs, err := s.Changes(ctx, "lingling", since, upTo)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Seq <= since || c.Seq > upTo {
				t.Fatalf("change %d of %s outside (%d, %d]", c.Seq, c.Article.ID, since, upTo)
			}
			seen[c.Article.ID] = true
		}
		since = upTo
	}
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		build()
	}
	build() // once more after the last write

	for w := range writers {
		for i := range perWriter {
			if id := fmt.Sprintf("w%d-%d", w, i); !seen[id] {
				t.Errorf("Changes never reported %s", id)
			}
		}
	}
	if n, err := s.ArticleCount(ctx); err != nil || n != writers*perWriter {
		t.Errorf("ArticleCount = %d, %v; want %d", n, err, writers*perWriter)
	}
}

// Opening fails cleanly, without hanging, when the server cannot be reached.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		t.Fatal("Open of an unreachable server succeeded")
	}
}

// Two relays never hold rows of one channel at once; a dead relay's claims expire.
func TestOutboxClaimsKeepChannelsApart(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx := context.Background()
	a, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a.ClaimTTL = time.Second
	var events []syndicate.OutboxRow
	for i := range 10 {
		ch := []string{"c1", "c2"}[i/5]
		events = append(events, syndicate.OutboxRow{EventID: fmt.Sprint("e", i), Subject: "s." + ch, Channel: ch, Payload: []byte("{}"), CreatedAt: time.Now()})
	}
	if err := a.CommitBuild(ctx, store.Build{Channel: "c", Events: events}); err != nil {
		t.Fatal(err)
	}
	channels := func(rows []syndicate.OutboxRow) map[string]int {
		m := map[string]int{}
		for _, r := range rows {
			m[r.Channel]++
		}
		return m
	}
	gotA, err := a.PendingEvents(ctx, 3)
	if err != nil || len(gotA) != 3 || channels(gotA)["c1"] != 3 {
		t.Fatalf("A claims %v, %v", channels(gotA), err)
	}
	gotB, err := b.PendingEvents(ctx, 10)
	if err != nil || len(gotB) != 5 || channels(gotB)["c2"] != 5 {
		t.Fatalf("B claims %v, %v; want only c2", channels(gotB), err)
	}
	gotA, _ = a.PendingEvents(ctx, 10)
	if c := channels(gotA); c["c1"] != 5 || c["c2"] != 0 {
		t.Fatalf("A again claims %v; want all of c1, none of c2", c)
	}
	for i := 1; i < len(gotA); i++ {
		if gotA[i-1].Seq >= gotA[i].Seq {
			t.Fatal("claimed rows not in order")
		}
	}
	// A dies; after its claim TTL B takes c1 over.
	testwait.For(t, "B to take c1 over once A's claim expired", func() bool {
		gotB, err = b.PendingEvents(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		return channels(gotB)["c1"] > 0
	})
	if c := channels(gotB); c["c1"] != 5 || c["c2"] != 5 {
		t.Fatalf("B after A's claims expired: %v", c)
	}
}

func TestLeases(t *testing.T) {
	storetest.Leases(t, postgrestest.Open(t))
}
