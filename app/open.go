package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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

// adminTokens returns the configured tokens or, when none is configured, the one saved in the
// data dir, generating it on first start.
func (a *App) adminTokens() ([]string, error) {
	if t := splitTokens(a.Config.Admin.Token); len(t) > 0 {
		return t, nil
	}
	path := filepath.Join(a.Config.DataDir, "admin-token")
	a.TokenFile = path
	if b, err := os.ReadFile(path); err == nil {
		if t := splitTokens(string(b)); len(t) > 0 {
			a.Log.Info("admin token read from file", slog.String("file", path))
			return t, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("app: read admin token: %w", err)
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("app: generate admin token: %w", err)
	}
	token := hex.EncodeToString(buf)
	if err := os.MkdirAll(a.Config.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("app: create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("app: save admin token: %w", err)
	}
	a.Log.Info("generated an admin token (set admin.token or SYNDICATE_ADMIN_TOKEN to choose one)", slog.String("file", path))
	return []string{token}, nil
}
