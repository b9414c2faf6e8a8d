package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yongzhou-news/syndicate/store"
)

var _ store.Leaser = (*DB)(nil)

// tickRetention is how long claimed ticks are kept: far longer than any clock skew or start-up
// catch-up between replicas, which is all a tick claim guards against.
const tickRetention = 24 * time.Hour

// AcquireLease implements store.Leaser. The tick claim and the lease are taken in one
// transaction, so a tick whose lease is busy stays unclaimed.
func (s *DB) AcquireLease(ctx context.Context, job, holder string, tick time.Time, ttl time.Duration) (token int64, ok bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if !tick.IsZero() {
			tag, err := tx.Exec(ctx, `INSERT INTO job_ticks (job, tick, holder) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, job, tick, holder)
			if err != nil {
				return fmt.Errorf("claim tick: %w", err)
			}
			if tag.RowsAffected() == 0 {
				return errNotAcquired
			}
			if _, err := tx.Exec(ctx, `DELETE FROM job_ticks WHERE job = $1 AND tick < $2`, job, tick.Add(-tickRetention)); err != nil {
				return fmt.Errorf("prune ticks: %w", err)
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO job_leases (job, holder, token, expires_at) VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
			ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, token = job_leases.token + 1, expires_at = excluded.expires_at
			WHERE job_leases.expires_at <= now()
			RETURNING token`, job, holder, ttl.Milliseconds()).Scan(&token)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotAcquired
		}
		if err != nil {
			return fmt.Errorf("take lease: %w", err)
		}
		return nil
	})
	if errors.Is(err, errNotAcquired) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("postgres: acquire lease of %q: %w", job, err)
	}
	return token, true, nil
}

// errNotAcquired rolls back an acquisition that found the tick or the lease taken.
var errNotAcquired = errors.New("not acquired")

// RenewLease implements store.Leaser.
func (s *DB) RenewLease(ctx context.Context, job string, token int64, ttl time.Duration) error {
	tag, err := s.pool.Exec(ctx, `UPDATE job_leases SET expires_at = now() + $3 * interval '1 millisecond'
		WHERE job = $1 AND token = $2 AND expires_at > now()`, job, token, ttl.Milliseconds())
	if err != nil {
		return fmt.Errorf("postgres: renew lease of %q: %w", job, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: renew lease of %q: %w", job, store.ErrLeaseLost)
	}
	return nil
}

// ReleaseLease implements store.Leaser. It expires the row rather than deleting it, so the next
// token still counts up from this one.
func (s *DB) ReleaseLease(ctx context.Context, job string, token int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE job_leases SET expires_at = now() WHERE job = $1 AND token = $2 AND expires_at > now()`, job, token); err != nil {
		return fmt.Errorf("postgres: release lease of %q: %w", job, err)
	}
	return nil
}

// checkFence makes a fenced build's transaction fail unless the run's lease is still live. FOR
// SHARE holds the row until commit, so a successor's takeover (an UPDATE of the row) waits for
// this commit instead of overlapping it; clock_timestamp, not the transaction's start time, is
// the moment of the check.
func checkFence(ctx context.Context, tx pgx.Tx) error {
	f, ok := store.FenceFrom(ctx)
	if !ok {
		return nil
	}
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM job_leases WHERE job = $1 AND token = $2 AND expires_at > clock_timestamp() FOR SHARE`, f.Job, f.Token).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("job %s token %d: %w", f.Job, f.Token, store.ErrLeaseLost)
	}
	if err != nil {
		return fmt.Errorf("check lease of job %s: %w", f.Job, err)
	}
	return nil
}
