package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/metrics"
	"github.com/yongzhou-news/syndicate/schedule"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func TestJobAndHTTPSeries(t *testing.T) {
	m := metrics.New()
	s := schedule.New("UTC", slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.Observe(s)
	fail := true
	s.Add(schedule.Job{Name: "build:lingling", Spec: "@yearly", Run: func(context.Context) (int, error) {
		if fail {
			return 0, errors.New("boom")
		}
		return 1, nil
	}})
	s.RunNow(context.Background(), "build:lingling")
	fail = false
	s.RunNow(context.Background(), "build:lingling")

	mux := http.NewServeMux()
	mux.HandleFunc("GET /feeds/{file}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	h := m.Middleware(mux)
	for range 3 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/feeds/lingling.atom", nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/secret/path/12345", nil))
	m.FeedServed("atom", true, 1000)

	out := scrape(t, m)
	for _, want := range []string{
		`syndicate_job_runs_total{job="build:lingling",status="failed"} 1`,
		`syndicate_job_runs_total{job="build:lingling",status="ok"} 1`,
		`syndicate_job_duration_seconds_count{job="build:lingling"} 2`,
		`syndicate_job_last_success_timestamp_seconds{job="build:lingling"}`,
		`syndicate_http_requests_total{code="304",route="GET /feeds/{file}"} 3`,
		`syndicate_http_requests_total{code="404",route="unmatched"} 1`,
		`syndicate_feed_bytes_served_total{encoding="gzip",format="atom"} 1000`,
		`go_goroutines`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(out, "12345") {
		t.Error("a raw request path became a label value")
	}
}
