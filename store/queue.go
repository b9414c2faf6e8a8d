package store

import (
	"context"
	"time"
)

// Queue is a durable delivery queue: one row per (kind, target, topic), so a topic that changes
// again before its delivery went out is delivered once (coalescing), and rows outlive restarts.
// Kind separates users of the table: "websub.publish" is a ping to a hub that a feed changed;
// a built-in hub (#18) adds its content deliveries to subscribers under another kind, with the
// content in Payload, and reuses the same worker code.
//
// Workers look for due rows with a read (HasDue), claim them for a while (ClaimDue), deliver,
// then Finish, Retry or Postpone them. A claim is
// a lease: rows whose claim expired are due again, so a worker that died mid-delivery loses its
// rows to another. Times are the caller's clock, so tests drive back-off and leases.
type Queue interface {
	// Enqueue adds the items, each due at once. An item whose row exists keeps its row, its
	// attempts and its next attempt (a failing target keeps its back-off), takes the new Payload,
	// and is marked changed, so that a delivery already in flight is followed by another.
	Enqueue(ctx context.Context, kind string, items []QueueItem, at time.Time) error
	// ClaimDue claims up to limit rows of kind and target that are due at now and not claimed by
	// anyone (or whose claim expired), until now+ttl, earliest due first. Several processes may
	// claim at once; each row goes to one of them.
	ClaimDue(ctx context.Context, kind, target string, now time.Time, limit int, ttl time.Duration) ([]Delivery, error)
	// HasDue reports whether ClaimDue at now would find a row of kind and target, with a read
	// only: an idle worker polls with it, where a claim would be a write transaction each time
	// (on SQLite, the process's one write lock, which builds wait for).
	HasDue(ctx context.Context, kind, target string, now time.Time) (bool, error)
	// Finish ends a claimed delivery, sent or given up: the row is deleted, unless it changed
	// since the claim, in which case it is released due at now with its attempts reset (requeued
	// is then true). A row whose claim was lost to another worker is left alone.
	Finish(ctx context.Context, d Delivery, now time.Time) (requeued bool, err error)
	// Retry releases a claimed delivery after a failed attempt: one more attempt is counted, and
	// the row is due again at next.
	Retry(ctx context.Context, d Delivery, next time.Time, lastErr string) error
	// Postpone releases a claimed delivery that was not attempted (its target was busy): it is
	// due again at next, and its attempts and last error stay as they were, so a delivery
	// postponed often is not given up any sooner.
	Postpone(ctx context.Context, d Delivery, next time.Time) error
	// ForgetTargets deletes the rows of kind whose target is not in keep (claimed ones
	// included) and reports how many it deleted.
	ForgetTargets(ctx context.Context, kind string, keep []string) (int64, error)
	// QueueStats reports the rows of kind (claimed ones included) and the creation time of the
	// oldest (zero when there is none).
	QueueStats(ctx context.Context, kind string) (depth int64, oldest time.Time, err error)
}

// QueueItem is one thing to deliver: the topic (a feed URL) to the target (a hub, or for a
// hub's content distribution a subscriber's callback).
type QueueItem struct {
	Target  string
	Topic   string
	Payload []byte // nil for a WebSub publish ping
}

// Delivery is a claimed row.
type Delivery struct {
	Kind string
	QueueItem
	Attempts  int       // failed attempts so far
	LastError string    // of the last failed attempt
	CreatedAt time.Time // when the row was first enqueued (or requeued by a change in flight)
	// Claim and Version identify the claim: a Finish or Retry with a claim another worker took
	// over does nothing, and a version other than the row's means it changed while in flight.
	Claim   string
	Version int64
}
