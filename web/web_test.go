package web_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

func newServer(t *testing.T) (*web.Server, *httptest.Server, *sqlite.DB) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	tree, err := syndicate.NewTree([]syndicate.Channel{
		{Slug: "xianshiqu", Title: "县市区"}, {Slug: "lingling", Title: "零陵", Parent: "xianshiqu"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := web.New(web.Options{
		Store: st, Tree: tree, Site: syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", TagDate: "2026"},
		Tokens: []string{"old-token", " new-token "}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Checks: map[string]func(context.Context) error{"store": st.Ping},
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return s, srv, st
}

func do(t *testing.T, method, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestFeedValidatorsAndEncoding(t *testing.T) {
	s, srv, _ := newServer(t)
	body := []byte(strings.Repeat("<item>零陵新闻</item>", 200))
	mod := time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC)
	if err := s.Cache().Put(syndicate.Document{Channel: "lingling", Format: "rss", Body: body, ETag: syndicate.ETagOf(body), Modified: mod}); err != nil {
		t.Fatal(err)
	}
	url := srv.URL + "/feeds/lingling.rss"
	etag := syndicate.ETagOf(body)
	lm := mod.Format(http.TimeFormat)
	tests := []struct {
		name       string
		method     string
		header     []string
		wantStatus int
		wantGzip   bool
		wantBody   bool
	}{
		{"plain", "GET", nil, 200, false, true},
		{"gzip", "GET", []string{"Accept-Encoding", "br, gzip;q=0.8"}, 200, true, true},
		{"gzip refused", "GET", []string{"Accept-Encoding", "gzip;q=0, identity"}, 200, false, true},
		{"etag match", "GET", []string{"If-None-Match", etag}, 304, false, false},
		{"weak etag match", "GET", []string{"If-None-Match", "W/" + etag}, 304, false, false},
		{"star", "GET", []string{"If-None-Match", "*"}, 304, false, false},
		{"list with match", "GET", []string{"If-None-Match", `"other", ` + etag}, 304, false, false},
		{"etag mismatch", "GET", []string{"If-None-Match", `"stale"`, "If-Modified-Since", lm}, 200, false, true},
		{"modified since equal", "GET", []string{"If-Modified-Since", lm}, 304, false, false},
		{"modified since earlier", "GET", []string{"If-Modified-Since", mod.Add(-time.Hour).Format(http.TimeFormat)}, 200, false, true},
		{"modified since later", "GET", []string{"If-Modified-Since", mod.Add(time.Hour).Format(http.TimeFormat)}, 304, false, false},
		{"modified since in the future", "GET", []string{"If-Modified-Since", time.Now().Add(24 * time.Hour).UTC().Format(http.TimeFormat)}, 200, false, true},
		{"if-match current", "GET", []string{"If-Match", etag}, 200, false, true},
		{"if-match star", "GET", []string{"If-Match", "*"}, 200, false, true},
		{"if-match other", "GET", []string{"If-Match", `"other"`}, 412, false, false},
		{"if-match weak is no match", "GET", []string{"If-Match", "W/" + etag}, 412, false, false},
		{"if-match wins over if-unmodified-since", "GET", []string{"If-Match", etag, "If-Unmodified-Since", mod.Add(-time.Hour).Format(http.TimeFormat)}, 200, false, true},
		{"unmodified since equal", "GET", []string{"If-Unmodified-Since", lm}, 200, false, true},
		{"unmodified since earlier", "GET", []string{"If-Unmodified-Since", mod.Add(-time.Hour).Format(http.TimeFormat)}, 412, false, false},
		{"head", "HEAD", nil, 200, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, got := do(t, tt.method, url, "", tt.header...)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if isGzip := resp.Header.Get("Content-Encoding") == "gzip"; isGzip != tt.wantGzip {
				t.Errorf("gzip = %v, want %v", isGzip, tt.wantGzip)
			}
			if (got != "") != tt.wantBody {
				t.Errorf("body present = %v, want %v", got != "", tt.wantBody)
			}
			if tt.wantBody && !tt.wantGzip && got != string(body) {
				t.Error("identity body differs from the document")
			}
			if resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") != lm || resp.Header.Get("Vary") != "Accept-Encoding, Accept, Sec-Fetch-Dest, Sec-Fetch-Mode" {
				t.Errorf("headers: %v", resp.Header)
			}
			if resp.StatusCode == 200 && resp.Header.Get("Content-Type") != "application/rss+xml; charset=utf-8" {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
	// The gzip representation has its own ETag, and either one revalidates.
	gz, _ := do(t, "GET", url, "", "Accept-Encoding", "gzip")
	if gz.Header.Get("ETag") == etag {
		t.Error("gzip and identity share one strong ETag")
	}
	if r, _ := do(t, "GET", url, "", "Accept-Encoding", "gzip", "If-None-Match", gz.Header.Get("ETag")); r.StatusCode != 304 {
		t.Errorf("gzip ETag revalidation: %d", r.StatusCode)
	}
	if r, _ := do(t, "GET", srv.URL+"/feeds/xianshiqu.rss", ""); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("known channel not built yet: %d, want 503", r.StatusCode)
	}
	if r, _ := do(t, "GET", srv.URL+"/feeds/nowhere.rss", ""); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown channel: %d, want 404", r.StatusCode)
	}
}

func TestAdminAPI(t *testing.T) {
	_, srv, st := newServer(t)
	url := srv.URL + "/api/articles"
	good := `{"id":"a1","title":"零陵","channels":["lingling"],"published_at":"2022-11-16T08:00:00+08:00"}`

	resp, body := do(t, "POST", url, good)
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp, _ := do(t, "POST", url, good, "Authorization", "Bearer wrong"); resp.StatusCode != 401 {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	for _, tok := range []string{"old-token", "new-token"} {
		resp, body = do(t, "POST", url, good, "Authorization", "Bearer "+tok)
		if resp.StatusCode != 201 && resp.StatusCode != 200 {
			t.Fatalf("token %s: %d %s", tok, resp.StatusCode, body)
		}
	}
	if _, err := st.Article(context.Background(), "a1"); err != nil {
		t.Fatalf("article not stored: %v", err)
	}

	bad := []struct {
		name, body, field string
	}{
		{"not json", `{"id":`, "body"},
		{"missing id", `{"title":"x","channels":["lingling"],"published_at":"2022-11-16T08:00:00+08:00"}`, "id"},
		{"unknown channel", `{"id":"b","title":"x","channels":["mars"],"published_at":"2022-11-16T08:00:00+08:00"}`, "channels"},
		{"bad date", `{"id":"b","title":"x","channels":["lingling"],"published_at":"16/11/2022"}`, "published_at"},
		{"wrong type", `{"id":"b","title":"x","channels":"lingling","published_at":"2022-11-16T08:00:00+08:00"}`, "channels"},
		{"unknown field", `{"id":"b","titel":"x","channels":["lingling"],"published_at":"2022-11-16T08:00:00+08:00"}`, "titel"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, "POST", url, tt.body, "Authorization", "Bearer old-token")
			var e struct{ Error, Field string }
			json.Unmarshal([]byte(body), &e)
			if resp.StatusCode != 400 || e.Field != tt.field || !strings.Contains(e.Error, tt.field) {
				t.Errorf("%d %s; want 400 naming %q", resp.StatusCode, body, tt.field)
			}
		})
	}

	// A batch keeps the good records and lists the bad ones.
	batch := "[" + good + `,{"id":"c"}]`
	resp, body = do(t, "POST", url, batch, "Authorization", "Bearer old-token")
	if resp.StatusCode != http.StatusMultiStatus || !strings.Contains(body, `"unchanged": 1`) || !strings.Contains(body, `"index": 1`) {
		t.Errorf("mixed batch: %d %s", resp.StatusCode, body)
	}

	if resp, _ := do(t, "DELETE", url+"/a1", "", "Authorization", "Bearer old-token"); resp.StatusCode != 204 {
		t.Errorf("DELETE: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "DELETE", url+"/a1", "", "Authorization", "Bearer old-token"); resp.StatusCode != 404 {
		t.Errorf("DELETE again: %d, want 404", resp.StatusCode)
	}
}

func TestHealth(t *testing.T) {
	_, srv, st := newServer(t)
	if r, _ := do(t, "GET", srv.URL+"/healthz", ""); r.StatusCode != 200 {
		t.Errorf("healthz %d", r.StatusCode)
	}
	if r, body := do(t, "GET", srv.URL+"/readyz", ""); r.StatusCode != 200 {
		t.Errorf("readyz %d %s", r.StatusCode, body)
	}
	st.Close()
	if r, body := do(t, "GET", srv.URL+"/readyz", ""); r.StatusCode != 503 || !strings.Contains(body, "unavailable") {
		t.Errorf("readyz with the store closed: %d %s", r.StatusCode, body)
	}
}

func TestMaxAgeFollowsSchedule(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tree, _ := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵"}})
	next := time.Now().Add(90 * time.Second)
	s := web.New(web.Options{Store: st, Tree: tree, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Cache: web.CachePolicy{NextBuild: func(string) time.Time { return next }, Min: 30 * time.Second, Max: 10 * time.Minute}})
	body := []byte("<rss/>")
	s.Cache().Put(syndicate.Document{Channel: "lingling", Format: "rss", Body: body, ETag: syndicate.ETagOf(body), Modified: time.Now()})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	maxAge := func() int {
		r, _ := do(t, "GET", srv.URL+"/feeds/lingling.rss", "")
		v, ok := strings.CutPrefix(r.Header.Get("Cache-Control"), "public, max-age=")
		if !ok {
			t.Fatalf("Cache-Control %q", r.Header.Get("Cache-Control"))
		}
		n, _ := strconv.Atoi(v)
		return n
	}
	if n := maxAge(); n < 88 || n > 90 {
		t.Errorf("max-age %d, want about 90 (time to the next build)", n)
	}
	next = time.Now().Add(5 * time.Hour)
	s.SchedulesChanged()
	if n := maxAge(); n != 600 {
		t.Errorf("after a schedule change max-age %d, want the 600 s ceiling", n)
	}
	next = time.Now().Add(time.Second)
	s.SchedulesChanged()
	if n := maxAge(); n != 30 {
		t.Errorf("build imminent: max-age %d, want the 30 s floor", n)
	}
	// HEAD carries the same headers and no body.
	get, _ := do(t, "GET", srv.URL+"/feeds/lingling.rss", "")
	head, hb := do(t, "HEAD", srv.URL+"/feeds/lingling.rss", "")
	if hb != "" || head.Header.Get("ETag") != get.Header.Get("ETag") || head.Header.Get("Content-Length") != get.Header.Get("Content-Length") {
		t.Errorf("HEAD: body %q, headers %v vs %v", hb, head.Header, get.Header)
	}
}

func TestOverloadAnswers503(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tree, _ := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵"}})
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	s := web.New(web.Options{Store: st, Tree: tree, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxInFlight: 1,
		Checks: map[string]func(context.Context) error{"slow": func(context.Context) error { entered <- struct{}{}; <-release; return nil }}})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	done := make(chan int)
	go func() { r, _ := do(t, "GET", srv.URL+"/readyz", ""); done <- r.StatusCode }()
	<-entered
	start := time.Now()
	r, _ := do(t, "GET", srv.URL+"/healthz", "")
	if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" {
		t.Errorf("over the cap: %d Retry-After %q", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("turned away after %v; it must not hang", took)
	}
	close(release)
	if code := <-done; code != 200 {
		t.Errorf("the slow request: %d", code)
	}
	if r, _ := do(t, "GET", srv.URL+"/healthz", ""); r.StatusCode != 200 {
		t.Errorf("after the load: %d", r.StatusCode)
	}
}

func TestRequestIDs(t *testing.T) {
	_, srv, _ := newServer(t)
	r, _ := do(t, "GET", srv.URL+"/healthz", "")
	if len(r.Header.Get("X-Request-Id")) != 16 {
		t.Errorf("no request id made: %q", r.Header.Get("X-Request-Id"))
	}
	r, _ = do(t, "GET", srv.URL+"/healthz", "", "X-Request-Id", "proxy-42")
	if r.Header.Get("X-Request-Id") != "proxy-42" {
		t.Errorf("proxy's id not kept: %q", r.Header.Get("X-Request-Id"))
	}
}
