package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// SaveRuns implements store.Store. The upsert's WHERE leaves a finished row alone.
func (s *DB) SaveRuns(ctx context.Context, runs []store.JobRun, keep store.Retention, now time.Time) error {
	if len(runs) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, r := range runs {
			if err := s.saveRun(ctx, tx, r, keep, now); err != nil {
				return fmt.Errorf("run %s of job %q: %w", r.ID, r.Job, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: save %d job runs: %w", len(runs), err)
	}
	return nil
}

// The run log's statements, prepared on the writer connection (writeStatements).
const (
	sqlSaveRun = `INSERT INTO job_runs (` + storesql.RunColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET ended = excluded.ended, deadline = excluded.deadline, status = excluded.status,
			count = excluded.count, documents = excluded.documents, events = excluded.events, error = excluded.error
		WHERE job_runs.status = 'running'`
	// Replicas may record runs out of order: max keeps the latest.
	sqlLastRun = `INSERT INTO jobs (name, last_run) VALUES (?, ?)
		ON CONFLICT (name) DO UPDATE SET last_run = max(last_run, excluded.last_run)`
	// Bounded by the index on (job, started): the subquery walks keep entries.
	sqlPruneRuns = `DELETE FROM job_runs WHERE job = ? AND (started < ? OR started <
		(SELECT started FROM job_runs WHERE job = ? ORDER BY started DESC, id DESC LIMIT 1 OFFSET ?))`
)

func (s *DB) saveRun(ctx context.Context, tx *sql.Tx, r store.JobRun, keep store.Retention, now time.Time) error {
	if _, err := s.exec(ctx, tx, sqlSaveRun,
		r.ID, r.Job, r.Trigger, r.Replica, micros(r.Start), optMicros(r.End), optMicros(r.Deadline), r.Status,
		r.Count, r.Documents, r.Events, r.Error); err != nil {
		return err
	}
	if _, err := s.exec(ctx, tx, sqlLastRun, r.Job, micros(r.Start)); err != nil {
		return err
	}
	if r.Status == store.RunRunning {
		return nil
	}
	_, err := s.exec(ctx, tx, sqlPruneRuns, r.Job, micros(now.Add(-keep.MaxAge)), r.Job, max(keep.Keep-1, 0))
	return err
}

// JobRuns implements store.Store.
func (s *DB) JobRuns(ctx context.Context, job string, limit int) ([]store.JobRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+storesql.RunColumns+` FROM job_runs WHERE job = ?
		ORDER BY started DESC, id DESC LIMIT ?`, job, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs of job %q: %w", job, err)
	}
	out, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs of job %q: %w", job, err)
	}
	return out, nil
}

// RecentRuns implements store.Store.
func (s *DB) RecentRuns(ctx context.Context, perJob int) (map[string][]store.JobRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+storesql.RunColumns+` FROM (SELECT *, row_number() OVER
		(PARTITION BY job ORDER BY started DESC, id DESC) AS n FROM job_runs) WHERE n <= ?
		ORDER BY job, started DESC, id DESC`, perJob)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recent runs: %w", err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recent runs: %w", err)
	}
	out := map[string][]store.JobRun{}
	for _, r := range runs {
		out[r.Job] = append(out[r.Job], r)
	}
	return out, nil
}

// JobRun implements store.Store.
func (s *DB) JobRun(ctx context.Context, job, id string) (store.JobRun, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+storesql.RunColumns+` FROM job_runs WHERE id = ? AND job = ?`, id, job)
	if err != nil {
		return store.JobRun{}, fmt.Errorf("sqlite: run %s of job %q: %w", id, job, err)
	}
	runs, err := scanRuns(rows)
	if err != nil {
		return store.JobRun{}, fmt.Errorf("sqlite: run %s of job %q: %w", id, job, err)
	}
	if len(runs) == 0 {
		return store.JobRun{}, syndicate.Errorf(syndicate.ENOTFOUND, "job %q has no run %s", job, id)
	}
	return runs[0], nil
}

func scanRuns(rows *sql.Rows) ([]store.JobRun, error) {
	defer rows.Close()
	return storesql.ScanRuns(rows, fromOptMicros)
}
