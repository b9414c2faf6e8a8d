package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/metrics"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// Feed requests are answered ahead of the routing and metrics layers; they must look the same
// from outside: the same answers, request ids when a proxy sends one, and the same series.
func TestFeedRequestsTakeTheShortPathUnchanged(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵"}, {Slug: "qiyang", Title: "祁阳"}})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	s := web.New(web.Options{Store: st, Tree: tree, Site: syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", TagDate: "2026"},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m})
	body := []byte(strings.Repeat("<item>零陵新闻</item>", 200))
	if err := s.Cache().Put(syndicate.Document{Channel: "lingling", Format: "rss", Body: body, ETag: syndicate.ETagOf(body), Modified: time.Now()}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	tests := []struct {
		method, path string
		header       []string
		status       int
	}{
		{"GET", "/feeds/lingling.rss", nil, 200},
		{"HEAD", "/feeds/lingling.rss", nil, 200},
		{"GET", "/feeds/lingling.rss", []string{"If-None-Match", syndicate.ETagOf(body)}, 304},
		{"GET", "/feeds/lingling.rss", []string{web.RequestIDHeader, "proxy-42"}, 200}, // the long way
		{"GET", "/feeds/qiyang.rss", nil, 503},
		{"GET", "/feeds/nowhere.rss", nil, 404},
		{"GET", "/feeds/lingling", nil, 404},
		{"POST", "/feeds/lingling.rss", nil, 405},
		{"GET", "/feeds/lingling/archive/1.rss", nil, 404},
		{"GET", "/healthz", nil, 200}, // other routes keep their own label behind the request id
	}
	for _, tc := range tests {
		resp, _ := do(t, tc.method, srv.URL+tc.path, "", tc.header...)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s %v: %d, want %d", tc.method, tc.path, tc.header, resp.StatusCode, tc.status)
		}
		if len(tc.header) > 0 && tc.header[0] == web.RequestIDHeader && resp.Header.Get(web.RequestIDHeader) != tc.header[1] {
			t.Errorf("request id not echoed on the long way: %q", resp.Header.Get(web.RequestIDHeader))
		}
	}
	_, text := do(t, "GET", srv.URL+"/metrics", "")
	for _, want := range []string{
		`syndicate_http_requests_total{code="200",route="GET /feeds/{file}"} 3`,
		`syndicate_http_requests_total{code="304",route="GET /feeds/{file}"} 1`,
		`syndicate_http_requests_total{code="503",route="GET /feeds/{file}"} 1`,
		`syndicate_http_requests_total{code="404",route="GET /feeds/{file}"} 2`,
		`syndicate_http_request_duration_seconds_count{route="GET /feeds/{file}"} 7`,
		`syndicate_http_requests_total{code="200",route="GET /healthz"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, "feeds") {
				t.Log(l)
			}
		}
	}
}
