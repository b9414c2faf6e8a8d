package hub

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests      *prometheus.CounterVec
	verifications *prometheus.CounterVec
	latency       prometheus.Histogram
	collectors    []prometheus.Collector
}

func newMetrics(h *Hub) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_websub_hub_requests_total",
			Help: "Requests to the built-in WebSub hub, by mode and outcome (accepted for verification, refused, rate_limited).",
		}, []string{"mode", "outcome"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_websub_hub_verifications_total",
			Help: "Verifications of intent by mode and outcome (verified, failed: no echo of the challenge or no answer, refused_address: the callback resolves to an internal address, denied: unknown topic).",
		}, []string{"mode", "outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "syndicate_websub_hub_delivery_latency_seconds",
			Help:    "Time from a feed change being queued to its delivery being accepted by a subscriber, retries included.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 300, 3600},
		}),
	}
	m.collectors = append([]prometheus.Collector{m.requests, m.verifications, m.latency, &subscriptionGauge{h: h}}, h.out.Collectors()...)
	return m
}

// Collectors returns the hub's Prometheus series, its delivery queue's included
// (syndicate_websub_hub_notifications_total by outcome, _queue_depth, ...).
func (h *Hub) Collectors() []prometheus.Collector { return h.m.collectors }

var subscriptionsDesc = prometheus.NewDesc("syndicate_websub_hub_subscriptions",
	"Subscriptions to the built-in WebSub hub whose lease has not run out, by topic.", []string{"topic"}, nil)

// subscriptionGauge reads the store at every scrape: subscriptions change on every replica.
type subscriptionGauge struct{ h *Hub }

func (g *subscriptionGauge) Describe(ch chan<- *prometheus.Desc) { ch <- subscriptionsDesc }

func (g *subscriptionGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	subs, err := g.h.opt.Store.ListSubscriptions(ctx, g.h.opt.Now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(subscriptionsDesc, err)
		return
	}
	by := map[string]int{}
	for _, s := range subs {
		by[s.Topic]++
	}
	for t, n := range by {
		ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, float64(n), t)
	}
}
