package web_test

import (
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
)

// The built-in files have validators like the pages: a client revalidates them with a 304
// instead of fetching them again once Cache-Control runs out.
func TestStaticFilesRevalidate(t *testing.T) {
	_, srv, _ := newServer(t)
	for _, tc := range []struct{ path, contentType, cors string }{
		{"/static/copy.js", "text/javascript; charset=utf-8", ""},
		{"/favicon.ico", "image/png", ""},
		{"/logo.png", "image/png", ""},
		{syndicate.ItemDataSchemaPath, "application/schema+json", "*"},
	} {
		resp, body := do(t, "GET", srv.URL+tc.path, "")
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || body == "" || etag == "" || resp.Header.Get("Content-Length") == "" {
			t.Errorf("GET %s: %d, %d bytes, ETag %q, Content-Length %q", tc.path, resp.StatusCode, len(body), etag, resp.Header.Get("Content-Length"))
			continue
		}
		if got := resp.Header.Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type %q, want %q", tc.path, got, tc.contentType)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.cors {
			t.Errorf("GET %s: Access-Control-Allow-Origin %q, want %q", tc.path, got, tc.cors)
		}
		if again, b := do(t, "GET", srv.URL+tc.path, "", "If-None-Match", etag); again.StatusCode != 304 || b != "" {
			t.Errorf("GET %s with its ETag: %d and %d bytes, want 304 and none", tc.path, again.StatusCode, len(b))
		}
	}
}
