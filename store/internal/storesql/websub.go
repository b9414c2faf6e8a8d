package storesql

import (
	"fmt"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// Row is one row of a result: database/sql's *sql.Row and *sql.Rows, pgx's pgx.Row and pgx.Rows.
type Row interface {
	Scan(dest ...any) error
}

// SubscriptionColumns are the websub_subscriptions columns ScanSubscription reads, in order.
const SubscriptionColumns = `id, callback, topic, host, secret, lease_seconds, expires_at, created_at, renewed_at`

// ScanSubscription reads a row of SubscriptionColumns; at converts the engine's times (T).
func ScanSubscription[T any](r Row, at func(T) time.Time) (store.Subscription, error) {
	var s store.Subscription
	var exp, created, renewed T
	if err := r.Scan(&s.ID, &s.Callback, &s.Topic, &s.Host, &s.Secret, &s.LeaseSeconds, &exp, &created, &renewed); err != nil {
		return s, err
	}
	s.ExpiresAt, s.CreatedAt, s.RenewedAt = at(exp), at(created), at(renewed)
	return s, nil
}

// ScanSubscriptions reads rows of SubscriptionColumns.
func ScanSubscriptions[T any](rows Rows, at func(T) time.Time) ([]store.Subscription, error) {
	var out []store.Subscription
	for rows.Next() {
		sub, err := ScanSubscription(rows, at)
		if err != nil {
			return nil, fmt.Errorf("scan subscription: %w", err)
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// ScanDeliveries reads claimed queue rows of (topic, payload, version, attempts, last_error,
// created_at) into deliveries like d, which holds their kind, target and claim; at converts the
// engine's created_at (T).
func ScanDeliveries[T any](rows Rows, d store.Delivery, at func(T) time.Time) ([]store.Delivery, error) {
	var out []store.Delivery
	for rows.Next() {
		var created T
		if err := rows.Scan(&d.Topic, &d.Payload, &d.Version, &d.Attempts, &d.LastError, &created); err != nil {
			return nil, fmt.Errorf("scan %s delivery: %w", d.Kind, err)
		}
		d.CreatedAt = at(created)
		out = append(out, d)
	}
	return out, rows.Err()
}
