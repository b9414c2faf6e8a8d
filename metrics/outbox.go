package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/relay"
)

// Outbox is what the outbox gauges read of the store at scrape time.
type Outbox interface {
	OutboxStats(ctx context.Context) (pending int64, oldest time.Time, err error)
	DeadLetters(ctx context.Context, limit int) ([]syndicate.DeadLetter, int64, error)
}

// Relay is what the relay counters read of the relay at scrape time: its running totals.
type Relay interface {
	Stats() relay.Stats
}

// scrapeTimeout bounds a store read made while Prometheus scrapes.
const scrapeTimeout = 2 * time.Second

// OutboxCollectors read the outbox and the relay at scrape time: relay totals, pending and dead
// rows, and the age of the oldest pending row, which is how far behind aggregators are.
func OutboxCollectors(outbox Outbox, r Relay) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_published_total", Help: "Events JetStream stored as new messages.",
		}, func() float64 { return float64(r.Stats().Published) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_duplicates_total", Help: "Republished events JetStream acknowledged as duplicates (counted as sent).",
		}, func() float64 { return float64(r.Stats().Duplicates) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_failures_total", Help: "Publish attempts that failed (error, timeout, disconnect); the rows are retried.",
		}, func() float64 { return float64(r.Stats().Failures) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_refused_total", Help: "Chained publishes the stream refused because the one before was not stored; they are sent again in order.",
		}, func() float64 { return float64(r.Stats().Refused) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_conflicts_total", Help: "Times another publisher wrote to the stream between two chained publishes (the relay then publishes unchained for a while).",
		}, func() float64 { return float64(r.Stats().Conflicts) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "syndicate_relay_dead_lettered_total", Help: "Events NATS refused for good (too large, bad subject), parked as dead letters; their channels went on.",
		}, func() float64 { return float64(r.Stats().DeadLettered) }),
		outboxGauges{outbox},
	}
}

// outboxGauges shows the pending and dead rows and the lag from one read of each per scrape,
// where a gauge function each read the store once per gauge.
type outboxGauges struct{ outbox Outbox }

var (
	pendingDesc = prometheus.NewDesc("syndicate_outbox_pending_rows",
		"Events written by builds and not yet acknowledged by JetStream (-1: store unreachable).", nil, nil)
	lagDesc = prometheus.NewDesc("syndicate_relay_lag_seconds",
		"Age of the oldest pending event; 0 when none is pending.", nil, nil)
	deadDesc = prometheus.NewDesc("syndicate_outbox_dead_rows",
		"Events parked as dead letters, waiting for `syndicate events resend` (-1: store unreachable).", nil, nil)
)

func (g outboxGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- lagDesc
	ch <- deadDesc
}

func (g outboxGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	pending, lag := -1.0, 0.0
	if n, oldest, err := g.outbox.OutboxStats(ctx); err == nil {
		pending = float64(n)
		if !oldest.IsZero() {
			lag = time.Since(oldest).Seconds()
		}
	}
	dead := -1.0
	// Limit 0: the count only.
	if _, n, err := g.outbox.DeadLetters(ctx, 0); err == nil {
		dead = float64(n)
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, pending)
	ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, lag)
	ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, dead)
}
