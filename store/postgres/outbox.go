package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	syndicate "github.com/yongzhou-news/syndicate"
)

// querier is a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// PendingEvents implements store.Store. It only reads, which is right for one relay. Several
// relays will have to claim rows instead: run pendingEvents inside a transaction with
// pendingQuery+" FOR UPDATE SKIP LOCKED" (or against a claimed_until lease column), so that no two
// relays publish the same row at once; the outbox_pending partial index serves both.
func (s *DB) PendingEvents(ctx context.Context, limit int) ([]syndicate.OutboxRow, error) {
	return pendingEvents(ctx, s.pool, pendingQuery, limit)
}

// pendingQuery reads unsent rows in Seq order. Outbox numbers come from an identity column, so a
// build that commits late can add a row below one already read; nothing is lost, because rows
// are found by sent_at IS NULL rather than by a high-water mark, but across concurrent builds the
// relay's order is only the order of commits.
const pendingQuery = `SELECT seq, event_id, subject, channel, payload, created_at
	FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1`

func pendingEvents(ctx context.Context, q querier, query string, limit int) ([]syndicate.OutboxRow, error) {
	rows, err := q.Query(ctx, query, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: pending events: %w", err)
	}
	defer rows.Close()
	var out []syndicate.OutboxRow
	for rows.Next() {
		var r syndicate.OutboxRow
		if err := rows.Scan(&r.Seq, &r.EventID, &r.Subject, &r.Channel, &r.Payload, &r.CreatedAt); err != nil {
			return nil, fmt.Errorf("postgres: scan outbox row: %w", err)
		}
		r.CreatedAt = r.CreatedAt.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
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
	if err := s.pool.QueryRow(ctx, `SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL`).Scan(&n, &oldest); err != nil {
		return 0, time.Time{}, fmt.Errorf("postgres: outbox stats: %w", err)
	}
	if oldest == nil {
		return n, time.Time{}, nil
	}
	return n, oldest.UTC(), nil
}
