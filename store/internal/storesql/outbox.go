package storesql

import (
	"fmt"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// ScanOutbox reads rows of (seq, event_id, subject, channel, payload, created_at); at converts
// the engine's created_at (T).
func ScanOutbox[T any](rows Rows, at func(T) time.Time) ([]syndicate.OutboxRow, error) {
	var out []syndicate.OutboxRow
	for rows.Next() {
		var r syndicate.OutboxRow
		var created T
		if err := rows.Scan(&r.Seq, &r.EventID, &r.Subject, &r.Channel, &r.Payload, &created); err != nil {
			return nil, fmt.Errorf("scan outbox row: %w", err)
		}
		r.CreatedAt = at(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ScanDeadLetters reads rows of (seq, event_id, subject, channel, payload size, error,
// created_at, dead_at); at converts the engine's times (T).
func ScanDeadLetters[T any](rows Rows, at func(T) time.Time) ([]syndicate.DeadLetter, error) {
	var out []syndicate.DeadLetter
	for rows.Next() {
		var d syndicate.DeadLetter
		var created, dead T
		if err := rows.Scan(&d.Seq, &d.EventID, &d.Subject, &d.Channel, &d.Size, &d.Error, &created, &dead); err != nil {
			return nil, fmt.Errorf("scan dead letter: %w", err)
		}
		d.CreatedAt, d.DeadAt = at(created), at(dead)
		out = append(out, d)
	}
	return out, rows.Err()
}
