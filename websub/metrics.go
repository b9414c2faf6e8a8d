package websub

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of an attempt, and reasons a notification was dropped.
const (
	outcomeDelivered = "delivered"
	outcomeRetried   = "retried"
	outcomeDropped   = "dropped"
	outcomePostponed = "postponed" // not attempted: the target was busy (Postponed)

	reasonAttempts = "attempts" // MaxAttempts failed attempts
	reasonAge      = "age"      // still failing after MaxAge
	reasonStore    = "store"    // the store still refused the queue write at Close
	reasonOverflow = "overflow" // more than MaxPending changes waited for the writer

	reasonUnconfigured = "unconfigured" // queued for a hub removed from the configuration
)

type metrics struct {
	outcomes   *prometheus.CounterVec
	dropped    *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	collectors []prometheus.Collector
}

func newMetrics(n *Notifier) *metrics {
	p := n.metricPrefix
	if p == "" {
		p = "syndicate_websub"
	}
	m := &metrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: p + "_notifications_total",
			Help: "WebSub publish attempts by hub and outcome (delivered; retried: failed, tried again later; dropped: failed and given up; postponed: not attempted yet, its target busy).",
		}, []string{"hub", "outcome"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: p + "_dropped_total",
			Help: "WebSub notifications never delivered, by reason (attempts, age: given up; store: the store still refused the queue write at shutdown; overflow: too many changes waiting to be queued; unconfigured: queued for a hub no longer configured).",
		}, []string{"reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: p + "_attempt_duration_seconds", Help: "Duration of WebSub publish attempts, by hub.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"hub"}),
	}
	for _, r := range []string{reasonAttempts, reasonAge, reasonStore, reasonOverflow, reasonUnconfigured} {
		m.dropped.WithLabelValues(r)
	}
	stats := func() (int64, time.Time) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		d, oldest, err := n.q.QueueStats(ctx, n.kind)
		if err != nil {
			return -1, time.Time{}
		}
		return d, oldest
	}
	m.collectors = []prometheus.Collector{m.outcomes, m.dropped, m.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: p + "_queue_depth", Help: "WebSub notifications queued in the store, in flight ones included (-1: store unreachable).",
		}, func() float64 { d, _ := stats(); return float64(d) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: p + "_queue_oldest_seconds", Help: "Age of the oldest queued WebSub notification; 0 when none is queued.",
		}, func() float64 {
			_, oldest := stats()
			if oldest.IsZero() {
				return 0
			}
			return n.opt.Now().Sub(oldest).Seconds()
		}),
	}
	return m
}

// Collectors returns the notifier's Prometheus series, for registration on /metrics.
func (n *Notifier) Collectors() []prometheus.Collector { return n.m.collectors }
