package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

func TestSanitizedIgnoredAfterOlderWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "syndicate.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storetest.OlderWriter(t, s, func(id, hash string, data []byte) error {
		_, err := raw.Exec(`UPDATE articles SET seq = seq + 1, hash = ?, data = ? WHERE id = ?`, hash, string(data), id)
		return err
	})
}
