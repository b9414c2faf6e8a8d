package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

var _ store.Subscriptions = (*DB)(nil)

// scanSubscription reads a row of storesql.SubscriptionColumns.
func scanSubscription(r storesql.Row) (store.Subscription, error) {
	return storesql.ScanSubscription(r, utc)
}

// SaveSubscription implements store.Subscriptions.
func (s *DB) SaveSubscription(ctx context.Context, sub store.Subscription) (store.Subscription, error) {
	out, err := scanSubscription(s.pool.QueryRow(ctx, `INSERT INTO websub_subscriptions
			(callback, topic, host, secret, lease_seconds, expires_at, created_at, renewed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (callback, topic) DO UPDATE SET host = excluded.host, secret = excluded.secret,
			lease_seconds = excluded.lease_seconds, expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
		RETURNING `+storesql.SubscriptionColumns,
		sub.Callback, sub.Topic, sub.Host, sub.Secret, sub.LeaseSeconds, sub.ExpiresAt, sub.RenewedAt))
	if err != nil {
		return out, fmt.Errorf("postgres: save subscription of %q to %q: %w", sub.Callback, sub.Topic, err)
	}
	return out, nil
}

// DeleteSubscription implements store.Subscriptions.
func (s *DB) DeleteSubscription(ctx context.Context, callback, topic string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM websub_subscriptions WHERE callback = $1 AND topic = $2`, callback, topic)
	if err != nil {
		return false, fmt.Errorf("postgres: delete subscription of %q to %q: %w", callback, topic, err)
	}
	return tag.RowsAffected() > 0, nil
}

// SubscriptionByID implements store.Subscriptions.
func (s *DB) SubscriptionByID(ctx context.Context, id int64) (store.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `SELECT `+storesql.SubscriptionColumns+` FROM websub_subscriptions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return sub, syndicate.Errorf(syndicate.ENOTFOUND, "subscription %d not found", id)
	}
	if err != nil {
		return sub, fmt.Errorf("postgres: subscription %d: %w", id, err)
	}
	return sub, nil
}

func (s *DB) subscriptions(ctx context.Context, what, query string, args ...any) ([]store.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+storesql.SubscriptionColumns+` FROM websub_subscriptions `+query, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	defer rows.Close()
	out, err := storesql.ScanSubscriptions(rows, utc)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", what, err)
	}
	return out, nil
}

// SubscribersOf implements store.Subscriptions.
func (s *DB) SubscribersOf(ctx context.Context, topics []string, now time.Time) ([]store.Subscription, error) {
	if len(topics) == 0 {
		return nil, nil
	}
	return s.subscriptions(ctx, fmt.Sprintf("subscribers of %d topics", len(topics)),
		`WHERE topic = ANY($1) AND expires_at > $2 ORDER BY topic, id`, topics, now)
}

// ListSubscriptions implements store.Subscriptions.
func (s *DB) ListSubscriptions(ctx context.Context, now time.Time) ([]store.Subscription, error) {
	return s.subscriptions(ctx, "list subscriptions", `WHERE expires_at > $1 ORDER BY topic, callback`, now)
}

// CountSubscriptions implements store.Subscriptions.
func (s *DB) CountSubscriptions(ctx context.Context, callback, topic, host string, now time.Time) (int, int, error) {
	var byTopic, byHost int
	err := s.pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM websub_subscriptions WHERE topic = $2 AND expires_at > $4 AND callback <> $1),
			(SELECT count(*) FROM websub_subscriptions WHERE host = $3 AND expires_at > $4 AND NOT (callback = $1 AND topic = $2))`,
		callback, topic, host, now).Scan(&byTopic, &byHost)
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: count subscriptions of %q and on %q: %w", topic, host, err)
	}
	return byTopic, byHost, nil
}

// PurgeSubscriptions implements store.Subscriptions.
func (s *DB) PurgeSubscriptions(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM websub_subscriptions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("postgres: purge expired subscriptions: %w", err)
	}
	return tag.RowsAffected(), nil
}
