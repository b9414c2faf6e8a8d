// Package metrics defines Syndicate's Prometheus series in one place and the small adapters that
// feed them: scheduler hooks, an HTTP middleware, and gauges read from the outbox and the relay
// at scrape time.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/yongzhou-news/syndicate/schedule"
)

// Metrics holds every series.
type Metrics struct {
	reg *prometheus.Registry

	jobRuns        *prometheus.CounterVec
	jobSkips       *prometheus.CounterVec
	jobPanics      *prometheus.CounterVec
	jobDuration    *prometheus.HistogramVec
	jobLastSuccess *prometheus.GaugeVec

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	feedBytes    *prometheus.CounterVec

	// IngestFetches counts upstream polls by source and result.
	IngestFetches *prometheus.CounterVec

	itemsSkipped *prometheus.CounterVec
	httpPanics   prometheus.Counter

	// counters resolved once per label set: label hashing stays off the feed hot path.
	mu           sync.RWMutex
	reqCache     map[reqKey]prometheus.Counter
	durCache     map[string]prometheus.Observer
	feedCounters map[string][2]prometheus.Counter // format → [identity, gzip], resolved at New
	// The feed route's request counters by status and its latency observer, resolved at New.
	feedRequests map[int]prometheus.Counter
	feedDuration prometheus.Observer
}

// FeedRoute is the route label of subscription feed requests.
const FeedRoute = "GET /feeds/{file}"

type reqKey struct {
	route  string
	status int
}

// New registers every series, with the Go and process collectors, on a fresh registry.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		jobRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_job_runs_total", Help: "Job runs by job and status (ok, failed).",
		}, []string{"job", "status"}),
		jobSkips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_job_skips_total", Help: "Ticks skipped because the previous run was still going.",
		}, []string{"job"}),
		jobPanics: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_job_panics_total", Help: "Runs that panicked and were recovered.",
		}, []string{"job"}),
		jobDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "syndicate_job_duration_seconds", Help: "Job run duration.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"job"}),
		jobLastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syndicate_job_last_success_timestamp_seconds", Help: "Unix time of the job's last successful run.",
		}, []string{"job"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_http_requests_total", Help: "HTTP requests by route and status code; the 304 ratio of feeds is code=304 over all feed requests.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "syndicate_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5},
		}, []string{"route"}),
		feedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_feed_bytes_served_total", Help: "Feed body bytes written, by format and encoding.",
		}, []string{"format", "encoding"}),
		IngestFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_ingest_fetches_total", Help: "Upstream feed polls by source and result (ok, not_modified, error).",
		}, []string{"source", "result"}),
		itemsSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_build_items_skipped_total", Help: "Items left out of a channel's rendered feed because they cannot be rendered (e.g. a date outside years 1-9999 in the site's zone); each build that renders without them counts them.",
		}, []string{"channel"}),
		httpPanics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "syndicate_http_panics_total", Help: "HTTP handlers that panicked; each was answered 500 and logged with its stack.",
		}),
		reqCache: map[reqKey]prometheus.Counter{},
		durCache: map[string]prometheus.Observer{},
	}
	m.feedCounters = map[string][2]prometheus.Counter{}
	for _, f := range []string{"rss", "atom", "json"} {
		m.feedCounters[f] = [2]prometheus.Counter{m.feedBytes.WithLabelValues(f, "identity"), m.feedBytes.WithLabelValues(f, "gzip")}
	}
	m.feedRequests = map[int]prometheus.Counter{}
	for _, code := range []int{http.StatusOK, http.StatusNotModified, http.StatusNotFound, http.StatusServiceUnavailable} {
		m.feedRequests[code] = m.requests(FeedRoute, code)
	}
	m.feedDuration = m.duration(FeedRoute)
	m.reg.MustRegister(m.jobRuns, m.jobSkips, m.jobPanics, m.jobDuration, m.jobLastSuccess,
		m.httpRequests, m.httpDuration, m.feedBytes, m.IngestFetches, m.itemsSkipped, m.httpPanics,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Register adds collectors (e.g. outbox gauges) to the registry.
func (m *Metrics) Register(cs ...prometheus.Collector) { m.reg.MustRegister(cs...) }

// Observe hooks the scheduler's runs into the job series.
func (m *Metrics) Observe(s *schedule.Scheduler) {
	s.Finished = func(name string, r schedule.Run, panicked bool) {
		m.jobRuns.WithLabelValues(name, r.Status).Inc()
		m.jobDuration.WithLabelValues(name).Observe(r.End.Sub(r.Start).Seconds())
		if panicked {
			m.jobPanics.WithLabelValues(name).Inc()
		}
		if r.Status == "ok" {
			m.jobLastSuccess.WithLabelValues(name).Set(float64(r.End.Unix()))
		}
	}
	s.Skipped = func(name string) { m.jobSkips.WithLabelValues(name).Inc() }
}

// ItemSkipped counts one item a build of channel left out of its documents.
func (m *Metrics) ItemSkipped(channel string) { m.itemsSkipped.WithLabelValues(channel).Inc() }

// Panicked counts a recovered panic of a loop that runs outside the scheduler, under
// syndicate_job_panics_total with its name as the job: only the relay's Run (job="relay"), which
// app restarts. A panic the relay recovers in an outbox call, or WebSub in a send, fails that one
// operation, which is logged and retried, and is not counted here.
func (m *Metrics) Panicked(name string) { m.jobPanics.WithLabelValues(name).Inc() }

// HTTPPanic counts one HTTP handler panic.
func (m *Metrics) HTTPPanic() { m.httpPanics.Inc() }

// FeedServed counts body bytes of one feed response. The counters are resolved once, at New:
// no label hashing on the feed hot path.
func (m *Metrics) FeedServed(format string, gzip bool, n int) {
	i := 0
	if gzip {
		i = 1
	}
	if c, ok := m.feedCounters[format]; ok {
		c[i].Add(float64(n))
		return
	}
	m.feedBytes.WithLabelValues(format, [2]string{"identity", "gzip"}[i]).Add(float64(n))
}

// FeedRequest counts one subscription feed request answered ahead of Middleware, as Middleware
// would have (route FeedRoute), without wrapping its writer.
func (m *Metrics) FeedRequest(status int, took time.Duration) {
	c, ok := m.feedRequests[status]
	if !ok {
		c = m.requests(FeedRoute, status)
	}
	c.Inc()
	m.feedDuration.Observe(took.Seconds())
}

func (m *Metrics) duration(route string) prometheus.Observer {
	m.mu.RLock()
	o, ok := m.durCache[route]
	m.mu.RUnlock()
	if ok {
		return o
	}
	o = m.httpDuration.WithLabelValues(route)
	m.mu.Lock()
	m.durCache[route] = o
	m.mu.Unlock()
	return o
}

func (m *Metrics) requests(route string, status int) prometheus.Counter {
	k := reqKey{route, status}
	m.mu.RLock()
	c, ok := m.reqCache[k]
	m.mu.RUnlock()
	if ok {
		return c
	}
	c = m.httpRequests.WithLabelValues(route, strconv.Itoa(status))
	m.mu.Lock()
	m.reqCache[k] = c
	m.mu.Unlock()
	return c
}

// Middleware counts requests and latency by the mux pattern that matched (never the raw path,
// which would let clients create unbounded series).
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(&sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests(route, sw.status).Inc()
		m.duration(route).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
