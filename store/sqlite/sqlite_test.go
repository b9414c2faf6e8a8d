package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "syndicate.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Migrations apply to an empty file, and reopening applies none twice.
func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "syndicate.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpsertArticle(ctx, storetest.Article("keep", 0, "lingling")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if _, err := s.Article(ctx, "keep"); err != nil {
		t.Errorf("article lost on reopen: %v", err)
	}
}
