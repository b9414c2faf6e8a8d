package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// OpenStore opens the store the DSN names: sqlite:PATH, or postgres://…. A SQLite file's
// directory is created when it lies in dataDir, the service's own; elsewhere it must exist, so
// that a mistyped path is an error instead of a new empty database in a new directory.
func OpenStore(ctx context.Context, dsn, dataDir string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if dir := filepath.Dir(path); !within(dir, dataDir) {
			if _, err := os.Stat(dir); err != nil {
				return nil, fmt.Errorf("app: store.dsn: the directory of %s: %w (it is outside data_dir, so it is not created)", path, err)
			}
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	}
	// Not the DSN itself: it may hold a password.
	scheme, _, _ := strings.Cut(dsn, ":")
	return nil, fmt.Errorf("app: store.dsn: unknown scheme %q (want sqlite: or postgres://)", scheme)
}

// within reports whether dir is root or lies below it.
func within(dir, root string) bool {
	d, err1 := filepath.Abs(dir)
	r, err2 := filepath.Abs(root)
	if err1 != nil || err2 != nil || root == "" {
		return false
	}
	rel, err := filepath.Rel(r, d)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
