package postgres

import "context"

// Setting reads a run-time parameter as the store's connections have it.
func Setting(ctx context.Context, s *DB, name string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v)
	return v, err
}

// MaxConns is the most connections the store's pool opens.
func MaxConns(s *DB) int32 { return s.pool.Config().MaxConns }
