package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// PendingEvents implements store.Store.
func (s *DB) PendingEvents(ctx context.Context, limit int) ([]syndicate.OutboxRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, event_id, subject, channel, payload, created_at
		FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending events: %w", err)
	}
	defer rows.Close()
	var out []syndicate.OutboxRow
	for rows.Next() {
		var r syndicate.OutboxRow
		var created int64
		if err := rows.Scan(&r.Seq, &r.EventID, &r.Subject, &r.Channel, &r.Payload, &created); err != nil {
			return nil, fmt.Errorf("sqlite: scan outbox row: %w", err)
		}
		r.CreatedAt = fromMicros(created)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: pending events: %w", err)
	}
	return out, nil
}

// MarkSent implements store.Store. One statement per chunk of rows: the relay marks hundreds at
// a time, and a statement per row made marking cost as much as publishing.
func (s *DB) MarkSent(ctx context.Context, seqs []int64, at time.Time) error {
	if len(seqs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(seqs); start += markChunk {
			chunk := seqs[start:min(start+markChunk, len(seqs))]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, micros(at))
			for _, seq := range chunk {
				args = append(args, seq)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND seq IN (`+placeholders(len(chunk))+`)`, args...); err != nil {
				return fmt.Errorf("sqlite: mark %d outbox rows sent: %w", len(chunk), err)
			}
		}
		return nil
	})
}

// markChunk keeps a statement's parameters well under SQLite's limit.
const markChunk = 500

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
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: outbox stats: %w", err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, fromMicros(oldest.Int64), nil
}
