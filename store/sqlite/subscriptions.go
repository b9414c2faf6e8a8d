package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

var _ store.Subscriptions = (*DB)(nil)

// scanSubscription reads a row of storesql.SubscriptionColumns.
func scanSubscription(r storesql.Row) (store.Subscription, error) {
	return storesql.ScanSubscription(r, fromMicros)
}

// SaveSubscription implements store.Subscriptions.
func (s *DB) SaveSubscription(ctx context.Context, sub store.Subscription) (store.Subscription, error) {
	var out store.Subscription
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, `INSERT INTO websub_subscriptions
				(callback, topic, host, secret, lease_seconds, expires_at, created_at, renewed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (callback, topic) DO UPDATE SET host = excluded.host, secret = excluded.secret,
				lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
			RETURNING `+storesql.SubscriptionColumns,
			sub.Callback, sub.Topic, sub.Host, sub.Secret, sub.LeaseSeconds, micros(sub.ExpiresAt), micros(sub.RenewedAt), micros(sub.RenewedAt))
		var err error
		if out, err = scanSubscription(row); err != nil {
			return fmt.Errorf("sqlite: save subscription of %q to %q: %w", sub.Callback, sub.Topic, err)
		}
		return nil
	})
	return out, err
}

// DeleteSubscription implements store.Subscriptions.
func (s *DB) DeleteSubscription(ctx context.Context, callback, topic string) (bool, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM websub_subscriptions WHERE callback = ? AND topic = ?`, callback, topic)
		if err != nil {
			return fmt.Errorf("sqlite: delete subscription of %q to %q: %w", callback, topic, err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n > 0, err
}

// SubscriptionByID implements store.Subscriptions.
func (s *DB) SubscriptionByID(ctx context.Context, id int64) (store.Subscription, error) {
	sub, err := scanSubscription(s.db.QueryRowContext(ctx, `SELECT `+storesql.SubscriptionColumns+` FROM websub_subscriptions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return sub, syndicate.Errorf(syndicate.ENOTFOUND, "subscription %d not found", id)
	}
	if err != nil {
		return sub, fmt.Errorf("sqlite: subscription %d: %w", id, err)
	}
	return sub, nil
}

func (s *DB) subscriptions(ctx context.Context, what, query string, args ...any) ([]store.Subscription, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+storesql.SubscriptionColumns+` FROM websub_subscriptions `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	defer rows.Close()
	out, err := storesql.ScanSubscriptions(rows, fromMicros)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	return out, nil
}

// SubscribersOf implements store.Subscriptions.
// The topics are one JSON parameter (json_each), so that one statement serves any number.
func (s *DB) SubscribersOf(ctx context.Context, topics []string, now time.Time) ([]store.Subscription, error) {
	if len(topics) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(topics)
	if err != nil {
		return nil, fmt.Errorf("sqlite: subscribers of %d topics: %w", len(topics), err)
	}
	return s.subscriptions(ctx, fmt.Sprintf("subscribers of %d topics", len(topics)),
		`WHERE topic IN (SELECT value FROM json_each(?)) AND expires_at > ? ORDER BY topic, id`, string(list), micros(now))
}

// ListSubscriptions implements store.Subscriptions.
func (s *DB) ListSubscriptions(ctx context.Context, now time.Time) ([]store.Subscription, error) {
	return s.subscriptions(ctx, "list subscriptions", `WHERE expires_at > ? ORDER BY topic, callback`, micros(now))
}

// CountSubscriptions implements store.Subscriptions.
func (s *DB) CountSubscriptions(ctx context.Context, callback, topic, host string, now time.Time) (int, int, error) {
	var byTopic, byHost int
	err := s.db.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM websub_subscriptions WHERE topic = ? AND expires_at > ? AND callback <> ?),
			(SELECT count(*) FROM websub_subscriptions WHERE host = ? AND expires_at > ? AND NOT (callback = ? AND topic = ?))`,
		topic, micros(now), callback, host, micros(now), callback, topic).Scan(&byTopic, &byHost)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: count subscriptions of %q and on %q: %w", topic, host, err)
	}
	return byTopic, byHost, nil
}

// PurgeSubscriptions implements store.Subscriptions.
func (s *DB) PurgeSubscriptions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM websub_subscriptions WHERE expires_at <= ?`, micros(now))
		if err != nil {
			return fmt.Errorf("sqlite: purge expired subscriptions: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
