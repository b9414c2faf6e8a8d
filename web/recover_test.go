package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/metrics"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// panickyStore is a real store whose Article reads panic for one id, as a bad stored value
// once made Article.Hash panic inside a handler.
type panickyStore struct{ *sqlite.DB }

func (p panickyStore) Article(ctx context.Context, id string) (syndicate.Article, error) {
	if id == "boom" {
		panic("Time.MarshalJSON: year outside of range [0,9999]")
	}
	return p.DB.Article(ctx, id)
}

// A handler that panics is answered 500 with the request id, in JSON under /api and in plain
// text elsewhere; the panic is logged with its stack and id and counted; the server goes on.
func TestPanicAnswered500WithRequestID(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵"}})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m := metrics.New()
	s := web.New(web.Options{
		Store: panickyStore{st}, Tree: tree, Site: syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", TagDate: "2026"},
		Tokens: []string{"tok"}, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: m,
	})
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	tests := []struct {
		path, requestID, contentType string
	}{
		{"/api/articles/boom", "", "application/json"},
		{"/api/articles/boom", "proxy-id-1", "application/json"},
		{"/articles/boom", "", "text/plain"},
	}
	for _, tc := range tests {
		resp, body := do(t, "GET", srv.URL+tc.path, "", "Authorization", "Bearer tok", web.RequestIDHeader, tc.requestID)
		id := resp.Header.Get(web.RequestIDHeader)
		if resp.StatusCode != http.StatusInternalServerError || id == "" || (tc.requestID != "" && id != tc.requestID) {
			t.Fatalf("GET %s: %d, request id %q; want 500 with the request id", tc.path, resp.StatusCode, id)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.contentType)
		}
		if !strings.Contains(body, id) || strings.Contains(body, "MarshalJSON") {
			t.Errorf("GET %s: body %q should name the request id and not the panic", tc.path, body)
		}
		if tc.contentType == "application/json" {
			var b struct {
				Error     string `json:"error"`
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal([]byte(body), &b); err != nil || b.RequestID != id || b.Error == "" {
				t.Errorf("GET %s: JSON body %q: %v", tc.path, body, err)
			}
		}
		var found bool
		for _, line := range strings.Split(logs.String(), "\n") {
			var rec struct {
				Msg, Panic, Stack string
				RequestID         string `json:"request_id"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "http handler panicked" && rec.RequestID == id {
				found = strings.Contains(rec.Panic, "year outside of range") && strings.Contains(rec.Stack, "panickyStore.Article")
			}
		}
		if !found {
			t.Errorf("GET %s: no log of the panic with request id %s and its stack:\n%s", tc.path, id, logs.String())
		}
	}
	// The server still answers, and counted the panics.
	resp, _ := do(t, "GET", srv.URL+"/healthz", "")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz after the panics: %d", resp.StatusCode)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if out, _ := io.ReadAll(rec.Body); !strings.Contains(string(out), "syndicate_http_panics_total 3") {
		t.Errorf("/metrics does not count 3 panics:\n%s", grepLines(string(out), "panics"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
