package web_test

import (
	"encoding/json"
	"testing"
)

// Every answer under /api is JSON, also for a route that does not exist or a method a route
// does not take: admin clients parse error bodies as JSON.
func TestAPIFallbackAnswersJSON(t *testing.T) {
	_, srv, _ := newServer(t)
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/nope", 404, ""},
		{"POST", "/api/", 404, ""},
		{"GET", "/api/articles", 405, "POST"},
		{"PUT", "/api/articles/lingling-1", 405, "GET, HEAD, DELETE"},
		{"DELETE", "/api/articles", 405, "POST"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := do(t, tc.method, srv.URL+tc.path, "", "Authorization", "Bearer old-token")
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
				t.Errorf("body %q is not a JSON error (%v)", body, err)
			}
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
		})
	}
}
