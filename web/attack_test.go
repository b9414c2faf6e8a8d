package web_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
	"testing"
)

// A feed name is a known channel and a known format; anything else is 404 whether or not the
// channel was built. A 503 tells crawlers and monitors to come back, so it must mean "not built
// yet" and nothing else.
func TestFeedNamesOutsideTheFormatsAreNotFound(t *testing.T) {
	_, srv, _ := newServer(t)
	tests := []struct {
		path string
		want int
	}{
		{"/feeds/lingling.rss", http.StatusServiceUnavailable}, // known channel, not built yet
		{"/feeds/all.json", http.StatusServiceUnavailable},
		{"/feeds/lingling.xml", http.StatusNotFound},
		{"/feeds/lingling.rss%00", http.StatusNotFound},
		{"/feeds/lingling.rss%20", http.StatusNotFound},
		{"/feeds/lingling.", http.StatusNotFound},
		{"/feeds/all.xml", http.StatusNotFound},
		{"/feeds/lingling.RSS", http.StatusNotFound},
		{"/feeds/nowhere.rss", http.StatusNotFound},
	}
	for _, tt := range tests {
		for _, via := range [][]string{nil, {"X-Request-Id", "qa-1"}} { // the short path and the mux
			resp, _ := do(t, "GET", srv.URL+tt.path, "", via...)
			if resp.StatusCode != tt.want {
				t.Errorf("GET %s (header %v): status %d, want %d", tt.path, via, resp.StatusCode, tt.want)
			}
		}
	}
}

// POST /api/articles reads bodies as sent; a body in a content coding it does not decode is 415
// (RFC 9110 §15.5.16), not read as if the header were absent: "Content-Encoding: br" on plain
// JSON must not be stored, and gzip must not come back as a JSON syntax error.
func TestPostArticlesRefusesContentCodings(t *testing.T) {
	_, srv, _ := newServer(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(article("cc-gzip", "2022-11-16T08:00:00+08:00")))
	zw.Close()
	tests := []struct {
		id, coding, body string
		want             int
	}{
		{"cc-none", "", "", http.StatusCreated},
		{"cc-identity", "identity", "", http.StatusCreated},
		{"cc-identity-case", "Identity", "", http.StatusCreated},
		{"cc-br", "br", "", http.StatusUnsupportedMediaType},
		{"cc-gzip", "gzip", gz.String(), http.StatusUnsupportedMediaType},
		{"cc-list", "identity, gzip", "", http.StatusUnsupportedMediaType},
		{"cc-garbage", "x;;", "", http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		body := tt.body
		if body == "" {
			body = article(tt.id, "2022-11-16T08:00:00+08:00")
		}
		h := []string{"Authorization", admin, "Content-Type", "application/json"}
		if tt.coding != "" {
			h = append(h, "Content-Encoding", tt.coding)
		}
		resp, got := do(t, "POST", srv.URL+"/api/articles", body, h...)
		if resp.StatusCode != tt.want {
			t.Errorf("Content-Encoding %q: %d %s; want %d", tt.coding, resp.StatusCode, got, tt.want)
			continue
		}
		if tt.want != http.StatusUnsupportedMediaType {
			continue
		}
		if !strings.Contains(got, "Content-Encoding") || resp.Header.Get("Accept-Encoding") != "identity" {
			t.Errorf("Content-Encoding %q: the answer does not say what is read: %s (Accept-Encoding %q)", tt.coding, got, resp.Header.Get("Accept-Encoding"))
		}
		if resp, _ := do(t, "GET", srv.URL+"/api/articles/"+tt.id, "", "Authorization", admin); resp.StatusCode != http.StatusNotFound {
			t.Errorf("Content-Encoding %q: the refused article was stored (GET says %d)", tt.coding, resp.StatusCode)
		}
	}
}
