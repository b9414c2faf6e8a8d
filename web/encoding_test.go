package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Accept-Encoding is negotiated per RFC 9110 §12.5.3, over real HTTP on a cached feed.
func TestAcceptEncodingNegotiation(t *testing.T) {
	s, srv, _ := newServer(t)
	body := []byte(strings.Repeat("<item>零陵新闻</item>", 200))
	if err := s.Cache().Put(syndicate.Document{Channel: "lingling", Format: "rss", Body: body, ETag: syndicate.ETagOf(body), Modified: time.Now()}); err != nil {
		t.Fatal(err)
	}
	const absent = "\x00" // no Accept-Encoding header at all
	tests := []struct {
		header string
		status int
		gzip   bool
	}{
		{absent, 200, false},
		{"", 200, false}, // present and empty: identity only
		{"gzip", 200, true},
		{"GZIP", 200, true},
		{"x-gzip", 200, true},
		{"X-GZip;q=0.3", 200, true},
		{" br , gzip ; q=0.5 ", 200, true},
		{"gzip;q=0", 200, false},
		{"gzip; Q=0.000", 200, false},
		{"*", 200, true},
		{"*, gzip;q=0", 200, false},
		{"*;q=0", 406, false},
		{"identity;q=0", 406, false},
		{"gzip;q=0, identity;q=0", 406, false},
		{"deflate, *;q=0", 406, false},
		{"identity;q=0, gzip", 200, true},
		{"*;q=0, gzip", 200, true},
		{"gzip;q=0.5, identity", 200, false},
		{"identity;q=0.5, gzip;q=0.8", 200, true},
		{"gzip;q=0.5, identity;q=0.5", 200, true}, // a tie goes to gzip
		{"br", 200, false},
		{"gzip;q=2", 200, false}, // a malformed weight: the element is ignored
	}
	for _, tc := range tests {
		req, _ := http.NewRequest("GET", srv.URL+"/feeds/lingling.rss", nil)
		if tc.header != absent {
			req.Header["Accept-Encoding"] = []string{tc.header}
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("Accept-Encoding %q: status %d, want %d", tc.header, resp.StatusCode, tc.status)
			continue
		}
		if resp.Header.Get("Vary") != "Accept-Encoding, Accept, Sec-Fetch-Dest, Sec-Fetch-Mode" { // the HTML view negotiates on Accept and Fetch Metadata too
			t.Errorf("Accept-Encoding %q: Vary %q", tc.header, resp.Header.Get("Vary"))
		}
		if tc.status != 200 {
			continue
		}
		isGzip := resp.Header.Get("Content-Encoding") == "gzip"
		if isGzip != tc.gzip {
			t.Errorf("Accept-Encoding %q: gzip %v, want %v", tc.header, isGzip, tc.gzip)
			continue
		}
		if isGzip {
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatal(err)
			}
			if got, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got, body) {
			t.Errorf("Accept-Encoding %q: body differs from the document", tc.header)
		}
	}
}
