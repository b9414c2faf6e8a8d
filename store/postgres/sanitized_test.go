package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

func TestSanitizedIgnoredAfterOlderWriter(t *testing.T) {
	s, conn := openWithConn(t)
	storetest.OlderWriter(t, s, func(id, hash string, data []byte) error {
		_, err := conn.Exec(context.Background(), `UPDATE articles SET hash = $1, data = $2 WHERE id = $3`, hash, string(data), id)
		return err
	})
}

// openWithConn opens a store on a fresh schema, and a connection of its own to that schema.
func openWithConn(t *testing.T) (*postgres.DB, *pgx.Conn) {
	t.Helper()
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return s, conn
}

// TestSanitizedSkipsHeldRows saves a build's sanitised content while another transaction holds
// one of the articles: the commit must neither wait for it nor fail, and must save the rest.
func TestSanitizedSkipsHeldRows(t *testing.T) {
	s, conn := openWithConn(t)
	ctx := context.Background()
	for _, id := range []string{"held", "free"} {
		if _, err := s.UpsertArticle(ctx, storetest.Article(id, 0, "lingling")); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.NewestItems(ctx, []string{"lingling"}, 2)
	if err != nil || len(items) != 2 {
		t.Fatalf("NewestItems = %v, %v", items, err)
	}

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
