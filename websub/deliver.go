package websub

import (
	"context"
	"fmt"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// NewDeliverer returns a Notifier whose workers deliver rows of kind, enqueued with Enqueue, to
// Options.Hubs (here any fixed set of queue targets) with send, under the same claims, bounds,
// retries and drops as publish pings. Its metrics are named metricPrefix+"_notifications_total"
// and so on, apart from the pings' own. The built-in hub (package hub) delivers content with it.
func NewDeliverer(q store.Queue, kind, metricPrefix string, send func(context.Context, store.Delivery) error, opt Options) *Notifier {
	n := New(q, opt)
	n.kind, n.send, n.metricPrefix = kind, send, metricPrefix
	n.m = newMetrics(n)
	return n
}

// Enqueue saves items of the notifier's kind to the queue now, each item's target one of
// Options.Hubs, and wakes the workers of those targets.
func (n *Notifier) Enqueue(ctx context.Context, items []store.QueueItem) error {
	if err := n.q.Enqueue(ctx, n.kind, items, n.opt.Now()); err != nil {
		return fmt.Errorf("websub: enqueue %d %s deliveries: %w", len(items), n.kind, err)
	}
	for _, it := range items {
		n.wakeWorker(it.Target)
	}
	return nil
}

// Postponed is what a send returns for a delivery it chose not to attempt now (the built-in
// hub's callback host already has as many deliveries in flight as it may): the row is released
// due again After from now, and the worker's slot goes to the next row at once. It is no
// failure: it is neither counted as retried nor dropped for it, and the row keeps its attempts
// and last error (store.Queue.Postpone), so a delivery postponed often is given up after as many
// real failures as any other.
type Postponed struct {
	After  time.Duration
	Reason string
}

func (p *Postponed) Error() string { return "postponed: " + p.Reason }
