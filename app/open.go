package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// OpenStore opens the store the DSN names: sqlite:PATH, or postgres://….
func OpenStore(ctx context.Context, dsn string) (store.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	}
	// Not the DSN itself: it may hold a password.
	scheme, _, _ := strings.Cut(dsn, ":")
	return nil, fmt.Errorf("app: store.dsn: unknown scheme %q (want sqlite: or postgres://)", scheme)
}
