package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// TestSanitizedIgnoredAfterOlderWriter edits an article the way a replica from before migration
// 0009 does, leaving the sanitised columns as they were: builds must not get the previous
// version's content, and the next import sanitises the new one.
func TestSanitizedIgnoredAfterOlderWriter(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := storetest.Article("a1", 0, "lingling")
	a.Sanitized = syndicate.Sanitized{Policy: "p1", HTML: "<p>旧</p>"}
	if _, err := s.UpsertArticle(ctx, a); err != nil {
		t.Fatal(err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	edited := a
	edited.ContentHTML, edited.Sanitized = "<p>新</p>", syndicate.Sanitized{}
	data, _ := json.Marshal(edited)
	if _, err := conn.Exec(ctx, `UPDATE articles SET hash = $1, data = $2 WHERE id = $3`, edited.Hash(), string(data), a.ID); err != nil {
		t.Fatal(err)
	}

	newest := func() syndicate.Article {
		t.Helper()
		items, err := s.NewestItems(ctx, []string{"lingling"}, 1)
		if err != nil || len(items) != 1 {
			t.Fatalf("NewestItems = %v, %v", items, err)
		}
		return items[0]
	}
	if got := newest(); got.ContentHTML != "<p>新</p>" || got.Sanitized != (syndicate.Sanitized{}) {
		t.Fatalf("after an older writer: content %q, sanitised %+v; want the new content and none", got.ContentHTML, got.Sanitized)
	}
	edited.Sanitized = syndicate.Sanitized{Policy: "p1", HTML: "<p>新</p>"}
	if out, err := s.UpsertArticle(ctx, edited); err != nil || out != store.UpsertUnchanged {
		t.Fatalf("import again = %v, %v; want unchanged", out, err)
	}
	if got := newest(); got.Sanitized != edited.Sanitized {
		t.Errorf("after importing again: sanitised %+v, want %+v", got.Sanitized, edited.Sanitized)
	}
}

// TestSanitizedSkipsHeldRows saves a build's sanitised content while another transaction holds
// one of the articles: the commit must neither wait for it nor fail, and must save the rest.
func TestSanitizedSkipsHeldRows(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"held", "free"} {
		if _, err := s.UpsertArticle(ctx, storetest.Article(id, 0, "lingling")); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.NewestItems(ctx, []string{"lingling"}, 2)
	if err != nil || len(items) != 2 {
		t.Fatalf("NewestItems = %v, %v", items, err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM articles WHERE id = 'held' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}

	html := "<p>净</p>"
	var made []store.SanitizedContent
	for _, a := range items { // sorted by id, as builds send them
		made = append(made, store.SanitizedContent{ArticleID: a.ID, Hash: a.StoredHash, Policy: "p1", HTML: &html})
	}
	if made[0].ArticleID > made[1].ArticleID {
		made[0], made[1] = made[1], made[0]
	}
	commitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.CommitBuild(commitCtx, store.Build{Channel: "lingling", Sanitized: made}); err != nil {
		t.Fatalf("CommitBuild while a row is held: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	items, err = s.NewestItems(ctx, []string{"lingling"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range items {
		saved := a.Sanitized.Policy == "p1"
		if want := a.ID == "free"; saved != want {
			t.Errorf("%s: sanitised content saved = %v, want %v", a.ID, saved, want)
		}
	}
}
