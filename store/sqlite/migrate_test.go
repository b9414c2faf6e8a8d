package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// firstSeqMigration is the migration that adds the archive's creation order.
const firstSeqMigration = "0004_first_seq"

// TestFirstSeqBackfill upgrades a store written before archives existed: its articles enter the
// archive in the order of their last change, and from then on updates keep their place.
func TestFirstSeqBackfill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
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
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, 0)`, name); err != nil {
			t.Fatal(err)
		}
	}
	// "late" was created first but changed last; "early" the other way round.
	for _, row := range []struct {
		a   syndicate.Article
		seq int64
	}{{storetest.Article("late", 0, "lingling"), 9}, {storetest.Article("early", 1, "lingling"), 4}} {
		data, _ := json.Marshal(row.a)
		if _, err := db.Exec(`INSERT INTO articles (id, seq, hash, deleted, published_at, data) VALUES (?, ?, ?, 0, 0, ?)`,
			row.a.ID, row.seq, row.a.Hash(), string(data)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO article_channels (channel, article_id, published_at) VALUES ('lingling', ?, 0)`, row.a.ID); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := sqlite.Open(ctx, path)
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
	checkOrder(t, s, []string{"early", "late", "new"})

	// Archive slots took over the order (0012), and first_seq went (0017).
	db, err = sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM pragma_table_info('articles') WHERE name = 'first_seq')
		+ (SELECT count(*) FROM pragma_table_info('article_channels') WHERE name = 'first_seq')`).Scan(&n); err != nil || n != 0 {
		t.Errorf("first_seq columns left after the migrations: %d, %v", n, err)
	}
}

func checkOrder(t *testing.T, s store.Store, want []string) {
	t.Helper()
	items, err := s.ArchivePage(context.Background(), []string{"lingling"}, 1, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range items {
		got = append(got, a.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("archive after the upgrade = %v, want %v", got, want)
	}
}
