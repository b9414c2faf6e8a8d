package store

import (
	"context"
	"time"
)

// Subscriptions holds the built-in WebSub hub's subscribers (issue #18, W3C WebSub §5): one row
// per (callback, topic), saved once the subscriber verified its intent. A subscription whose
// lease ran out is no subscriber any more, whether or not it was purged yet. Times are the
// caller's clock, so tests drive leases.
type Subscriptions interface {
	// SaveSubscription creates the subscription of s.Callback to s.Topic, or renews it: a
	// renewal keeps the ID and CreatedAt and takes the new secret, lease and expiry.
	SaveSubscription(ctx context.Context, s Subscription) (Subscription, error)
	// DeleteSubscription removes the subscription of callback to topic and reports whether
	// there was one.
	DeleteSubscription(ctx context.Context, callback, topic string) (bool, error)
	// SubscriptionByID returns a subscription by ID, expired or not; syndicate.ENOTFOUND when
	// there is none (it was unsubscribed, or purged).
	SubscriptionByID(ctx context.Context, id int64) (Subscription, error)
	// SubscribersOf lists the subscriptions to any of topics that have not expired at now, by
	// topic then ID: the hub lists the subscribers of every feed a burst of builds changed at once.
	SubscribersOf(ctx context.Context, topics []string, now time.Time) ([]Subscription, error)
	// ListSubscriptions lists every subscription not expired at now, by topic then callback.
	ListSubscriptions(ctx context.Context, now time.Time) ([]Subscription, error)
	// CountSubscriptions counts the subscriptions not expired at now to topic, and those whose
	// callback is on host, leaving out callback's own subscription to topic (a renewal adds
	// none), for the hub's limits.
	CountSubscriptions(ctx context.Context, callback, topic, host string, now time.Time) (byTopic, byHost int, err error)
	// PurgeSubscriptions deletes the subscriptions expired at now and reports how many.
	PurgeSubscriptions(ctx context.Context, now time.Time) (int64, error)
}

// Subscription is one verified subscriber of a topic.
type Subscription struct {
	ID       int64
	Callback string
	Topic    string
	// Host is the callback's host (lower case, without port), for the per-host limit.
	Host string
	// Secret signs content distributions (X-Hub-Signature); "" when the subscriber gave none.
	Secret       string
	LeaseSeconds int
	ExpiresAt    time.Time
	CreatedAt    time.Time // first verified subscription
	RenewedAt    time.Time // last verified (re)subscription
}
