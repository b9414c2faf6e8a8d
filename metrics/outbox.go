package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Outbox is what the outbox gauges read of the store at scrape time.
type Outbox interface {
	OutboxStats(ctx context.Context) (pending int64, oldest time.Time, err error)
	DeadLetters(ctx context.Context, limit int) ([]syndicate.DeadLetter, int64, error)
}

// RelayCounts are the relay's running totals the counters show; the caller maps its relay's
// statistics to them, so this package does not depend on the relay's.
type RelayCounts struct {
	Published, Duplicates, Failures, Refused, Conflicts, DeadLettered uint64
}

// scrapeTimeout bounds a store read made while Prometheus scrapes.
const scrapeTimeout = 2 * time.Second

// OutboxCollectors read the outbox and the relay at scrape time: relay totals, pending and dead
// rows, and the age of the oldest pending row, which is how far behind aggregators are.
func OutboxCollectors(outbox Outbox, relay func() RelayCounts) []prometheus.Collector {
	stats := func() (int64, time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
		defer cancel()
		n, oldest, err := outbox.OutboxStats(ctx)
		if err != nil {
			return -1, time.Time{}
		}
		return n, oldest
	}
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_published_total", Help: "Events JetStream stored as new messages.",
		}, func() float64 { return float64(relay().Published) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_duplicates_total", Help: "Republished events JetStream acknowledged as duplicates (counted as sent).",
		}, func() float64 { return float64(relay().Duplicates) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_failures_total", Help: "Publish attempts that failed (error, timeout, disconnect); the rows are retried.",
		}, func() float64 { return float64(relay().Failures) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_refused_total", Help: "Chained publishes the stream refused because the one before was not stored; they are sent again in order.",
		}, func() float64 { return float64(relay().Refused) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_conflicts_total", Help: "Times another publisher wrote to the stream between two chained publishes (the relay then publishes unchained for a while).",
		}, func() float64 { return float64(relay().Conflicts) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_dead_lettered_total", Help: "Events NATS refused for good (too large, bad subject), parked as dead letters; their channels went on.",
		}, func() float64 { return float64(relay().DeadLettered) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "syndicate_outbox_dead_rows", Help: "Events parked as dead letters, waiting for `syndicate events resend` (-1: store unreachable).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
			defer cancel()
			_, n, err := outbox.DeadLetters(ctx, 0)
			if err != nil {
				return -1
			}
			return float64(n)
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "syndicate_outbox_pending_rows", Help: "Events written by builds and not yet acknowledged by JetStream (-1: store unreachable).",
		}, func() float64 { n, _ := stats(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "syndicate_relay_lag_seconds", Help: "Age of the oldest pending event; 0 when none is pending.",
		}, func() float64 {
			_, oldest := stats()
			if oldest.IsZero() {
				return 0
			}
			return time.Since(oldest).Seconds()
		}),
	}
}
