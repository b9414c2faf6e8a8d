package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/yongzhou-news/syndicate/store"
)

// SourceState implements store.Store.
func (s *DB) SourceState(ctx context.Context, name string) (store.SourceState, error) {
	st := store.SourceState{Name: name}
	var checked int64
	err := s.db.QueryRowContext(ctx, `SELECT etag, last_modified, checked_at FROM sources WHERE name = ?`, name).
		Scan(&st.ETag, &st.LastModified, &checked)
	if errors.Is(err, sql.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("sqlite: state of source %q: %w", name, err)
	}
	if checked != 0 {
		st.CheckedAt = fromMicros(checked)
	}
	return st, nil
}

// SaveSourceState implements store.Store.
func (s *DB) SaveSourceState(ctx context.Context, st store.SourceState) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sources (name, etag, last_modified, checked_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, checked_at = excluded.checked_at`,
		st.Name, st.ETag, st.LastModified, micros(st.CheckedAt))
	if err != nil {
		return fmt.Errorf("sqlite: save state of source %q: %w", st.Name, err)
	}
	return nil
}
