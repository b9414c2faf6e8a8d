package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

var _ store.Queue = (*DB)(nil)

// The queue's statements, prepared on the writer connection (writeStatements): every delivery
// is enqueued, claimed and finished.
//
// The claim's limit is "? + 0", not "?": once SQLite re-prepares a statement (for any reason), it
// plans a bare LIMIT parameter with its bound value and marks the statement to be re-prepared
// whenever that parameter is bound again, and the claim binds a different limit almost every time.
// Compiling the claim again on each call was 4 % of the 1,000-topic hub benchmark's CPU.
const (
	sqlEnqueue = `INSERT INTO websub_queue (kind, target, topic, payload, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind, target, topic) DO UPDATE SET version = version + 1, payload = excluded.payload`
	sqlClaimDue = `UPDATE websub_queue SET claim = ?, claimed_until = ?
			WHERE rowid IN (SELECT rowid FROM websub_queue
				WHERE kind = ? AND target = ? AND next_attempt_at <= ? AND claimed_until <= ?
				ORDER BY next_attempt_at LIMIT ? + 0)
			RETURNING topic, payload, version, attempts, last_error, created_at`
	sqlFinish  = `DELETE FROM websub_queue WHERE kind = ? AND target = ? AND topic = ? AND claim = ? AND version = ?`
	sqlRequeue = `UPDATE websub_queue SET claim = '', claimed_until = 0, attempts = 0,
				last_error = '', next_attempt_at = ?, created_at = ?
			WHERE kind = ? AND target = ? AND topic = ? AND claim = ?`
)

// Enqueue implements store.Queue, all items in one transaction: a rebuild of every channel
// enqueues thousands of rows, and one commit each would queue behind the builds' own writes.
func (s *DB) Enqueue(ctx context.Context, kind string, items []store.QueueItem, at time.Time) error {
	if len(items) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, it := range items {
			if _, err := s.exec(ctx, tx, sqlEnqueue, kind, it.Target, it.Topic, it.Payload, micros(at), micros(at)); err != nil {
				return fmt.Errorf("sqlite: enqueue %s delivery of %q to %q: %w", kind, it.Topic, it.Target, err)
			}
		}
		return nil
	})
}

// ClaimDue implements store.Queue. SQLite has one process, so claims only keep this process's
// own workers apart and survive nothing: a restart finds them expired after ttl.
func (s *DB) ClaimDue(ctx context.Context, kind, target string, now time.Time, limit int, ttl time.Duration) ([]store.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	claim := rand.Text()
	var out []store.Delivery
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := s.query(ctx, tx, sqlClaimDue, claim, micros(now.Add(ttl)), kind, target, micros(now), micros(now), limit)
		if err != nil {
			return fmt.Errorf("sqlite: claim %s deliveries to %q: %w", kind, target, err)
		}
		defer rows.Close()
		out, err = storesql.ScanDeliveries(rows, store.Delivery{Kind: kind, QueueItem: store.QueueItem{Target: target}, Claim: claim}, fromMicros)
		if err != nil {
			return fmt.Errorf("sqlite: claim %s deliveries to %q: %w", kind, target, err)
		}
		return nil
	})
	if err != nil {
		// The body may have read claims that were then not committed (a later write of its
		// group broke the transaction): none of them is this worker's to send.
		return nil, err
	}
	return out, nil
}

// HasDue implements store.Queue, outside any transaction: in WAL mode a read takes no lock that
// a writer waits for.
func (s *DB) HasDue(ctx context.Context, kind, target string, now time.Time) (bool, error) {
	var due bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM websub_queue
		WHERE kind = ? AND target = ? AND next_attempt_at <= ? AND claimed_until <= ?)`,
		kind, target, micros(now), micros(now)).Scan(&due)
	if err != nil {
		return false, fmt.Errorf("sqlite: look for due %s deliveries to %q: %w", kind, target, err)
	}
	return due, nil
}

// Finish implements store.Queue.
func (s *DB) Finish(ctx context.Context, d store.Delivery, now time.Time) (bool, error) {
	requeued := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, sqlFinish, d.Kind, d.Target, d.Topic, d.Claim, d.Version)
		if err != nil {
			return fmt.Errorf("sqlite: finish %s delivery of %q to %q: %w", d.Kind, d.Topic, d.Target, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		res, err = s.exec(ctx, tx, sqlRequeue, micros(now), micros(now), d.Kind, d.Target, d.Topic, d.Claim)
		if err != nil {
			return fmt.Errorf("sqlite: requeue %s delivery of %q to %q: %w", d.Kind, d.Topic, d.Target, err)
		}
		n, _ := res.RowsAffected()
		requeued = n > 0
		return nil
	})
	return requeued, err
}

// Retry implements store.Queue.
func (s *DB) Retry(ctx context.Context, d store.Delivery, next time.Time, lastErr string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE websub_queue SET claim = '', claimed_until = 0, attempts = attempts + 1,
				last_error = ?, next_attempt_at = ?
			WHERE kind = ? AND target = ? AND topic = ? AND claim = ?`,
			lastErr, micros(next), d.Kind, d.Target, d.Topic, d.Claim)
		if err != nil {
			return fmt.Errorf("sqlite: retry %s delivery of %q to %q: %w", d.Kind, d.Topic, d.Target, err)
		}
		return nil
	})
}

// Postpone implements store.Queue.
func (s *DB) Postpone(ctx context.Context, d store.Delivery, next time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE websub_queue SET claim = '', claimed_until = 0, next_attempt_at = ?
			WHERE kind = ? AND target = ? AND topic = ? AND claim = ?`,
			micros(next), d.Kind, d.Target, d.Topic, d.Claim)
		if err != nil {
			return fmt.Errorf("sqlite: postpone %s delivery of %q to %q: %w", d.Kind, d.Topic, d.Target, err)
		}
		return nil
	})
}

// ForgetTargets implements store.Queue.
func (s *DB) ForgetTargets(ctx context.Context, kind string, keep []string) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// json_each passes the list as one parameter, whatever its length.
		list, _ := json.Marshal(append([]string{}, keep...))
		res, err := tx.ExecContext(ctx, `DELETE FROM websub_queue
			WHERE kind = ? AND target NOT IN (SELECT value FROM json_each(?))`, kind, string(list))
		if err != nil {
			return fmt.Errorf("sqlite: forget %s deliveries to other targets: %w", kind, err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}

// QueueStats implements store.Queue.
func (s *DB) QueueStats(ctx context.Context, kind string) (int64, time.Time, error) {
	var n int64
	var oldest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM websub_queue WHERE kind = ?`, kind).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: %s queue stats: %w", kind, err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, fromMicros(oldest.Int64), nil
}
