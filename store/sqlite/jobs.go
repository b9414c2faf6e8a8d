package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// JobStates implements store.Store.
func (s *DB) JobStates(ctx context.Context) (map[string]store.JobState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, schedule, paused, last_run, updated_at FROM jobs`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: job states: %w", err)
	}
	defer rows.Close()
	out, err := storesql.ScanJobStates(rows, fromOptMicros)
	if err != nil {
		return nil, fmt.Errorf("sqlite: job states: %w", err)
	}
	return out, nil
}

// SaveJobSettings implements store.Store.
func (s *DB) SaveJobSettings(ctx context.Context, name, schedule string, paused bool, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO jobs (name, schedule, paused, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET schedule = excluded.schedule, paused = excluded.paused, updated_at = excluded.updated_at`,
		name, schedule, paused, micros(at))
	if err != nil {
		return fmt.Errorf("sqlite: save settings of job %q: %w", name, err)
	}
	return nil
}
