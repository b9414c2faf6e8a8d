package postgres_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// firstSeqMigration is the migration that adds the archive's creation order.
const firstSeqMigration = "0005_first_seq"

// TestFirstSeqBackfill upgrades a store written before archives existed: its articles enter the
// archive in the order of their last change, and from then on updates keep their place.
func TestFirstSeqBackfill(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%.60s: %v", sql, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	for _, f := range files {
		name := filepath.Base(f[:len(f)-len(".sql")])
		if name >= firstSeqMigration {
			break
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec(`INSERT INTO schema_migrations (name) VALUES ($1)`, name)
	}
	// "late" was created first but changed last; "early" the other way round.
	for _, row := range []struct {
		id  string
		n   int
		seq int64
	}{{"late", 0, 9}, {"early", 1, 4}} {
		a := storetest.Article(row.id, row.n, "lingling")
		data, _ := json.Marshal(a)
		exec(`INSERT INTO articles (id, seq, hash, deleted, published_at, data) VALUES ($1, $2, $3, false, $4, $5)`,
			a.ID, row.seq, a.Hash(), a.PublishedAt, string(data))
		exec(`INSERT INTO article_channels (channel, article_id, published_at) VALUES ('lingling', $1, $2)`, a.ID, a.PublishedAt)
	}
	exec(`UPDATE change_counter SET last_seq = 9`)

	s, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	late := storetest.Article("late", 0, "lingling")
	late.Title = "改"
	if _, err := s.UpsertArticle(ctx, late); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertArticle(ctx, storetest.Article("new", -5, "lingling")); err != nil {
		t.Fatal(err)
	}
	items, err := s.ArchivePage(ctx, []string{"lingling"}, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range items {
		got = append(got, a.ID)
	}
	if want := []string{"early", "late", "new"}; !slices.Equal(got, want) {
		t.Errorf("archive after the upgrade = %v, want %v", got, want)
	}

	// Archive slots took over the order (0013), and first_seq went (0018), indexes and all.
	var cols, indexes int
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM information_schema.columns
			WHERE table_schema = current_schema() AND column_name = 'first_seq'),
		(SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
			AND indexname IN ('articles_first_seq', 'article_channels_created'))`).Scan(&cols, &indexes); err != nil {
		t.Fatal(err)
	}
	if cols != 0 || indexes != 0 {
		t.Errorf("after the migrations: %d first_seq columns and %d of their indexes, want none", cols, indexes)
	}
}
