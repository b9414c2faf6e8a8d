package hub

import (
	"context"
	"sync"
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
			Help: "Verifications of intent by mode and outcome (verified, failed: no echo of the challenge or no answer, refused_address: the callback resolves to an internal address, denied: unknown topic, over_limit: verified, but its topic or callback host reached its limit meanwhile).",
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

// subscriptionGauge reads the store's subscriptions (they change on every replica), at most once
// per subscriptionGaugeTTL: /metrics is open to anyone, and reading every subscription on each
// scrape would let a client that polls it turn each request into a scan of up to MaxPerTopic
// rows per topic. Scrapes that come together wait for one read.
type subscriptionGauge struct {
	h *Hub

	mu  sync.Mutex
	at  time.Time // of the last read; zero before the first
	by  map[string]int
	err error
}

// subscriptionGaugeTTL is well under any scrape interval a Prometheus server uses (15 s and up).
const subscriptionGaugeTTL = 5 * time.Second

func (g *subscriptionGauge) Describe(ch chan<- *prometheus.Desc) { ch <- subscriptionsDesc }

func (g *subscriptionGauge) Collect(ch chan<- prometheus.Metric) {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.h.opt.Now()
	if g.at.IsZero() || now.Sub(g.at) >= subscriptionGaugeTTL || now.Before(g.at) {
		g.by, g.err = g.read(now)
		g.at = now
	}
	if g.err != nil {
		ch <- prometheus.NewInvalidMetric(subscriptionsDesc, g.err)
		return
	}
	for t, n := range g.by {
		ch <- prometheus.MustNewConstMetric(subscriptionsDesc, prometheus.GaugeValue, float64(n), t)
	}
}

func (g *subscriptionGauge) read(now time.Time) (map[string]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	subs, err := g.h.opt.Store.ListSubscriptions(ctx, now)
	if err != nil {
		return nil, err
	}
	by := map[string]int{}
	for _, s := range subs {
		by[s.Topic]++
	}
	return by, nil
}
