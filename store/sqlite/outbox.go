package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// PendingEvents implements store.Store.
func (s *DB) PendingEvents(ctx context.Context, limit int) ([]syndicate.OutboxRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, event_id, subject, channel, payload, created_at
		FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending events: %w", err)
	}
	defer rows.Close()
	out, err := storesql.ScanOutbox(rows, fromMicros)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending events: %w", err)
	}
	return out, nil
}

// sqlMarkSent marks a run of outbox rows sent; prepared on the writer connection (writeStatements).
const sqlMarkSent = `UPDATE outbox SET sent_at = ? WHERE seq BETWEEN ? AND ? AND sent_at IS NULL`

// MarkSent implements store.Store. The relay marks hundreds of rows at a time, mostly runs of
// consecutive numbers (it publishes rows in outbox order): one prepared range update per run,
// where a statement listing every number cost SQLite more to compile than to run.
func (s *DB) MarkSent(ctx context.Context, seqs []int64, at time.Time) error {
	if len(seqs) == 0 {
		return nil
	}
	seqs = slices.Clone(seqs)
	slices.Sort(seqs)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for i := 0; i < len(seqs); {
			j := i + 1
			for j < len(seqs) && seqs[j] <= seqs[j-1]+1 {
				j++
			}
			if _, err := s.exec(ctx, tx, sqlMarkSent, micros(at), seqs[i], seqs[j-1]); err != nil {
				return fmt.Errorf("sqlite: mark outbox rows %d–%d sent: %w", seqs[i], seqs[j-1], err)
			}
			i = j
		}
		return nil
	})
}

// PruneSent implements store.Store.
func (s *DB) PruneSent(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune outbox: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune outbox: %w", err)
	}
	return n, nil
}

// OutboxStats implements store.Store.
func (s *DB) OutboxStats(ctx context.Context) (int64, time.Time, error) {
	var n int64
	var oldest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: outbox stats: %w", err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, fromMicros(oldest.Int64), nil
}

// MarkDead implements store.Store.
func (s *DB) MarkDead(ctx context.Context, seq int64, reason string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE outbox SET dead_at = ?, dead_error = ? WHERE seq = ? AND sent_at IS NULL`,
		micros(at), reason, seq); err != nil {
		return fmt.Errorf("sqlite: park outbox row %d: %w", seq, err)
	}
	return nil
}

// DeadLetters implements store.Store.
func (s *DB) DeadLetters(ctx context.Context, limit int) ([]syndicate.DeadLetter, int64, error) {
	var total int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: count dead letters: %w", err)
	}
	if limit < 1 {
		return nil, total, nil // the count only (the metrics' dead-rows gauge)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, event_id, subject, channel, length(payload), coalesce(dead_error, ''), created_at, dead_at
		FROM outbox WHERE dead_at IS NOT NULL ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: dead letters: %w", err)
	}
	defer rows.Close()
	out, err := storesql.ScanDeadLetters(rows, fromMicros)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: dead letters: %w", err)
	}
	return out, total, nil
}

// ResendDead implements store.Store.
func (s *DB) ResendDead(ctx context.Context, seqs []int64) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if seqs == nil {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET dead_at = NULL, dead_error = NULL WHERE dead_at IS NOT NULL`)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		}
		// A seq given twice is one row, as on PostgreSQL: not a second one that is not dead.
		for _, seq := range slices.Compact(slices.Sorted(slices.Values(seqs))) {
			res, err := tx.ExecContext(ctx, `UPDATE outbox SET dead_at = NULL, dead_error = NULL WHERE seq = ? AND dead_at IS NOT NULL`, seq)
			if err != nil {
				return err
			}
			if k, err := res.RowsAffected(); err != nil {
				return err
			} else if k == 0 {
				return syndicate.Errorf(syndicate.ENOTFOUND, "outbox row %d is not a dead letter", seq)
			}
			n++
		}
		return nil
	})
	if err != nil {
		var serr *syndicate.Error
		if errors.As(err, &serr) {
			return 0, err
		}
		return 0, fmt.Errorf("sqlite: resend dead letters: %w", err)
	}
	return n, nil
}
