package postgres

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

var _ store.Queue = (*DB)(nil)

// Enqueue implements store.Queue with one statement. Items are deduplicated (ON CONFLICT DO
// UPDATE may not touch a row twice in one statement) and sorted, so that two replicas enqueuing
// overlapping batches lock rows in the same order instead of deadlocking.
func (s *DB) Enqueue(ctx context.Context, kind string, items []store.QueueItem, at time.Time) error {
	if len(items) == 0 {
		return nil
	}
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b store.QueueItem) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Topic, b.Topic))
	})
	targets, topics, payloads := make([]string, 0, len(sorted)), make([]string, 0, len(sorted)), make([][]byte, 0, len(sorted))
	for i, it := range sorted {
		if i+1 < len(sorted) && sorted[i+1].Target == it.Target && sorted[i+1].Topic == it.Topic {
			continue // the last of equal items wins, as if enqueued one after the other
		}
		targets, topics, payloads = append(targets, it.Target), append(topics, it.Topic), append(payloads, it.Payload)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO websub_queue (kind, target, topic, payload, next_attempt_at, created_at)
		SELECT $1, t.target, t.topic, t.payload, $5, $5 FROM unnest($2::text[], $3::text[], $4::bytea[]) AS t(target, topic, payload)
		ON CONFLICT (kind, target, topic) DO UPDATE SET version = websub_queue.version + 1, payload = excluded.payload`,
		kind, targets, topics, payloads, at)
	if err != nil {
		return fmt.Errorf("postgres: enqueue %d %s deliveries: %w", len(targets), kind, err)
	}
	return nil
}

// ClaimDue implements store.Queue. FOR UPDATE SKIP LOCKED lets replicas claim at once without
// waiting on each other's rows, and the lease in claimed_until keeps a claimed row from every
// other replica until its worker finishes it or dies and the lease runs out: each delivery is
// attempted by one replica at a time. Times come from the replicas' clocks (so that tests can
// drive them), which must agree to well within the lease.
func (s *DB) ClaimDue(ctx context.Context, kind, target string, now time.Time, limit int, ttl time.Duration) ([]store.Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	claim := rand.Text()
	rows, err := s.pool.Query(ctx, `UPDATE websub_queue q SET claim = $1, claimed_until = $2
		FROM (SELECT kind, target, topic FROM websub_queue
			WHERE kind = $3 AND target = $4 AND next_attempt_at <= $5 AND claimed_until <= $5
			ORDER BY next_attempt_at LIMIT $6
			FOR UPDATE SKIP LOCKED) due
		WHERE q.kind = due.kind AND q.target = due.target AND q.topic = due.topic
		RETURNING q.topic, q.payload, q.version, q.attempts, q.last_error, q.created_at`,
		claim, now.Add(ttl), kind, target, now, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim %s deliveries to %q: %w", kind, target, err)
	}
	defer rows.Close()
	out, err := storesql.ScanDeliveries(rows, store.Delivery{Kind: kind, QueueItem: store.QueueItem{Target: target}, Claim: claim}, utc)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim %s deliveries to %q: %w", kind, target, err)
	}
	return out, nil
}

// HasDue implements store.Queue.
func (s *DB) HasDue(ctx context.Context, kind, target string, now time.Time) (bool, error) {
	var due bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM websub_queue
		WHERE kind = $1 AND target = $2 AND next_attempt_at <= $3 AND claimed_until <= $3)`,
		kind, target, now).Scan(&due)
	if err != nil {
		return false, fmt.Errorf("postgres: look for due %s deliveries to %q: %w", kind, target, err)
	}
	return due, nil
}

// Finish implements store.Queue. The row is locked first: an Enqueue that bumps its version
// either commits before (and the row is requeued) or waits until the delete is done (and
// inserts a new row).
func (s *DB) Finish(ctx context.Context, d store.Delivery, now time.Time) (bool, error) {
	requeued := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var version int64
		err := tx.QueryRow(ctx, `SELECT version FROM websub_queue
			WHERE kind = $1 AND target = $2 AND topic = $3 AND claim = $4 FOR UPDATE`,
			d.Kind, d.Target, d.Topic, d.Claim).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // the claim was lost to another worker
		}
		if err != nil {
			return fmt.Errorf("postgres: finish %s delivery of %q to %q: %w", d.Kind, d.Topic, d.Target, err)
		}
		if version == d.Version {
			if _, err := tx.Exec(ctx, `DELETE FROM websub_queue WHERE kind = $1 AND target = $2 AND topic = $3`,
				d.Kind, d.Target, d.Topic); err != nil {
				return fmt.Errorf("postgres: finish %s delivery of %q to %q: %w", d.Kind, d.Topic, d.Target, err)
			}
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE websub_queue SET claim = '', claimed_until = 'epoch', attempts = 0,
				last_error = '', next_attempt_at = $4, created_at = $4
			WHERE kind = $1 AND target = $2 AND topic = $3`, d.Kind, d.Target, d.Topic, now); err != nil {
			return fmt.Errorf("postgres: requeue %s delivery of %q to %q: %w", d.Kind, d.Topic, d.Target, err)
		}
		requeued = true
		return nil
	})
	return requeued, err
}

// Retry implements store.Queue.
func (s *DB) Retry(ctx context.Context, d store.Delivery, next time.Time, lastErr string) error {
	_, err := s.pool.Exec(ctx, `UPDATE websub_queue SET claim = '', claimed_until = 'epoch', attempts = attempts + 1,
			last_error = $1, next_attempt_at = $2
		WHERE kind = $3 AND target = $4 AND topic = $5 AND claim = $6`,
		lastErr, next, d.Kind, d.Target, d.Topic, d.Claim)
	if err != nil {
		return fmt.Errorf("postgres: retry %s delivery of %q to %q: %w", d.Kind, d.Topic, d.Target, err)
	}
	return nil
}

// Postpone implements store.Queue.
func (s *DB) Postpone(ctx context.Context, d store.Delivery, next time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE websub_queue SET claim = '', claimed_until = 'epoch', next_attempt_at = $1
		WHERE kind = $2 AND target = $3 AND topic = $4 AND claim = $5`,
		next, d.Kind, d.Target, d.Topic, d.Claim)
	if err != nil {
		return fmt.Errorf("postgres: postpone %s delivery of %q to %q: %w", d.Kind, d.Topic, d.Target, err)
	}
	return nil
}

// ForgetTargets implements store.Queue.
func (s *DB) ForgetTargets(ctx context.Context, kind string, keep []string) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM websub_queue WHERE kind = $1 AND NOT (target = ANY($2))`, kind, append([]string{}, keep...))
	if err != nil {
		return 0, fmt.Errorf("postgres: forget %s deliveries to other targets: %w", kind, err)
	}
	return tag.RowsAffected(), nil
}

// QueueStats implements store.Queue.
func (s *DB) QueueStats(ctx context.Context, kind string) (int64, time.Time, error) {
	var n int64
	var oldest *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM websub_queue WHERE kind = $1`, kind).Scan(&n, &oldest)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, time.Time{}, fmt.Errorf("postgres: %s queue stats: %w", kind, err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, oldest.UTC(), nil
}
