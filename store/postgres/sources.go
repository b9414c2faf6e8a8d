package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/yongzhou-news/syndicate/store"
)

// SourceState implements store.Store.
func (s *DB) SourceState(ctx context.Context, name string) (store.SourceState, error) {
	st := store.SourceState{Name: name}
	err := s.pool.QueryRow(ctx, `SELECT etag, last_modified, checked_at FROM sources WHERE name = $1`, name).
		Scan(&st.ETag, &st.LastModified, &st.CheckedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.SourceState{Name: name}, nil
	}
	if err != nil {
		return store.SourceState{Name: name}, fmt.Errorf("postgres: state of source %q: %w", name, err)
	}
	st.CheckedAt = st.CheckedAt.UTC()
	return st, nil
}

// SaveSourceState implements store.Store.
func (s *DB) SaveSourceState(ctx context.Context, st store.SourceState) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sources (name, etag, last_modified, checked_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, checked_at = excluded.checked_at`,
		st.Name, st.ETag, st.LastModified, st.CheckedAt)
	if err != nil {
		return fmt.Errorf("postgres: save state of source %q: %w", st.Name, err)
	}
	return nil
}
