package postgres

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// PendingEvents implements store.Store. Several relays (one per replica) share the outbox, so it
// claims what it returns: rows of channels that no other relay holds a live claim on, oldest
// first. A channel is only ever in one relay's hands, so its events reach JetStream in order; a
// relay that dies leaves claims that expire after ClaimTTL, and another relay republishes those
// rows (JetStream's duplicate window drops what had already arrived). The claim runs under a
// transaction-scoped advisory lock, so two relays cannot both see a channel unclaimed.
func (s *DB) PendingEvents(ctx context.Context, limit int) ([]syndicate.OutboxRow, error) {
	var out []syndicate.OutboxRow
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, claimLockKey); err != nil {
			return fmt.Errorf("postgres: claim lock: %w", err)
		}
		var err error
		out, err = pendingEvents(ctx, tx, claimQuery, limit, s.claimant, s.ClaimTTL.Seconds())
		return err
	})
	if err != nil {
		return nil, err
	}
	// RETURNING has no order.
	slices.SortFunc(out, func(a, b syndicate.OutboxRow) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// claimLockKey serialises outbox claims ("synclaim" in ASCII).
const claimLockKey int64 = 0x73796e636c61696d

const claimQuery = `UPDATE outbox SET claimed_by = $2, claimed_until = now() + make_interval(secs => $3)
	WHERE seq IN (
		SELECT o.seq FROM outbox o
		WHERE o.sent_at IS NULL AND o.dead_at IS NULL AND NOT EXISTS (
			SELECT 1 FROM outbox x
			WHERE x.channel = o.channel AND x.sent_at IS NULL AND x.dead_at IS NULL
				AND x.claimed_by <> $2 AND x.claimed_until > now())
		ORDER BY o.seq LIMIT $1)
	RETURNING seq, event_id, subject, channel, payload, created_at`

func newClaimant() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	host, _ := os.Hostname()
	return host + "-" + hex.EncodeToString(b)
}

func pendingEvents(ctx context.Context, q querier, query string, limit int, args ...any) ([]syndicate.OutboxRow, error) {
	rows, err := q.Query(ctx, query, append([]any{limit}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending events: %w", err)
	}
	defer rows.Close()
	out, err := storesql.ScanOutbox(rows, utc)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending events: %w", err)
	}
	return out, nil
}

// MarkSent implements store.Store.
func (s *DB) MarkSent(ctx context.Context, seqs []int64, at time.Time) error {
	if len(seqs) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `UPDATE outbox SET sent_at = $1 WHERE seq = ANY($2) AND sent_at IS NULL`, at, seqs); err != nil {
		return fmt.Errorf("postgres: mark %d outbox rows sent: %w", len(seqs), err)
	}
	return nil
}

// PruneSent implements store.Store.
func (s *DB) PruneSent(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM outbox WHERE sent_at < $1`, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: prune outbox: %w", err)
	}
	return tag.RowsAffected(), nil
}

// OutboxStats implements store.Store.
func (s *DB) OutboxStats(ctx context.Context) (int64, time.Time, error) {
	var n int64
	var oldest *time.Time
	if err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("postgres: outbox stats: %w", err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, oldest.UTC(), nil
}

// MarkDead implements store.Store.
func (s *DB) MarkDead(ctx context.Context, seq int64, reason string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE outbox SET dead_at = $1, dead_error = $2, claimed_by = NULL, claimed_until = NULL
		WHERE seq = $3 AND sent_at IS NULL`, at, reason, seq); err != nil {
		return fmt.Errorf("postgres: park outbox row %d: %w", seq, err)
	}
	return nil
}

// DeadLetters implements store.Store.
func (s *DB) DeadLetters(ctx context.Context, limit int) ([]syndicate.DeadLetter, int64, error) {
	var total int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("postgres: count dead letters: %w", err)
	}
	if limit < 1 {
		return nil, total, nil // the count only (the metrics' dead-rows gauge)
	}
	rows, err := s.pool.Query(ctx, `SELECT seq, event_id, subject, channel, length(payload), coalesce(dead_error, ''), created_at, dead_at
		FROM outbox WHERE dead_at IS NOT NULL ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: dead letters: %w", err)
	}
	defer rows.Close()
	out, err := storesql.ScanDeadLetters(rows, utc)
	if err != nil {
		return nil, 0, fmt.Errorf("postgres: dead letters: %w", err)
	}
	return out, total, nil
}

// ResendDead implements store.Store.
func (s *DB) ResendDead(ctx context.Context, seqs []int64) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if seqs == nil {
			tag, err := tx.Exec(ctx, `UPDATE outbox SET dead_at = NULL, dead_error = NULL WHERE dead_at IS NOT NULL`)
			n = tag.RowsAffected()
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE outbox SET dead_at = NULL, dead_error = NULL WHERE seq = ANY($1) AND dead_at IS NOT NULL`, seqs)
		if err != nil {
			return err
		}
		// A seq given twice is one row.
		distinct := int64(len(slices.Compact(slices.Sorted(slices.Values(seqs)))))
		if n = tag.RowsAffected(); n != distinct {
			return syndicate.Errorf(syndicate.ENOTFOUND, "%d of the outbox rows %v are not dead letters", distinct-n, seqs)
		}
		return nil
	})
	if err != nil {
		var serr *syndicate.Error
		if errors.As(err, &serr) {
			return 0, err
		}
		return 0, fmt.Errorf("postgres: resend dead letters: %w", err)
	}
	return n, nil
}
