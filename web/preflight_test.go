package web_test

import (
	"net/http"
	"testing"
)

// A browser's CORS preflight of a feed or archive page gets 204 with what lets the page's
// conditional GET go ahead; other methods on a feed still get 405 naming the allowed ones.
func TestFeedPreflight(t *testing.T) {
	_, srv, _ := newServer(t)
	for _, path := range []string{"/feeds/lingling.rss", "/feeds/lingling/archive/1.atom"} {
		resp, body := do(t, "OPTIONS", srv.URL+path, "", "Origin", "https://reader.example",
			"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "if-none-match")
		if resp.StatusCode != http.StatusNoContent || body != "" {
			t.Fatalf("OPTIONS %s: %d %q, want 204 and no body", path, resp.StatusCode, body)
		}
		for k, want := range map[string]string{
			"Access-Control-Allow-Origin":  "*",
			"Access-Control-Allow-Methods": "GET, HEAD",
			"Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since, Cache-Control",
			"Allow":                        "GET, HEAD, OPTIONS",
		} {
			if got := resp.Header.Get(k); got != want {
				t.Errorf("OPTIONS %s: %s %q, want %q", path, k, got, want)
			}
		}
	}
	resp, _ := do(t, "POST", srv.URL+"/feeds/lingling.rss", "")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("POST a feed: %d, Allow %q; want 405 and GET, HEAD, OPTIONS", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if resp, _ := do(t, "GET", srv.URL+"/feeds/", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /feeds/: %d, want 404", resp.StatusCode)
	}
}
