package ingest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/ingest"
)

func TestBackoffKeepsTheFirstError(t *testing.T) {
	up := &upstream{status: http.StatusInternalServerError}
	srv := httptest.NewServer(up)
	defer srv.Close()
	p, _ := newPoller(t)
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	p.Now = func() time.Time { return now }
	src := ingest.Source{Name: "down", URL: srv.URL, Channels: []string{"lingling"}}
	ctx := context.Background()

	if _, err := p.Poll(ctx, src); err == nil {
		t.Fatal("500 accepted")
	}
	_, err := p.Poll(ctx, src)
	want := "ingest down: source is backing off until 10:01:00 after 1 failure; first error at 10:00:00: GET " + srv.URL + ": 500 Internal Server Error"
	if !errors.Is(err, ingest.ErrBackingOff) || err.Error() != want {
		t.Fatalf("after one failure:\n got %v\nwant %s", err, want)
	}

	now = now.Add(61 * time.Second)
	up.mu.Lock()
	up.status = http.StatusServiceUnavailable
	up.mu.Unlock()
	if _, err := p.Poll(ctx, src); err == nil {
		t.Fatal("503 accepted")
	}
	_, err = p.Poll(ctx, src)
	for _, part := range []string{
		"until 10:03:01 after 2 failures",
		"first error at 10:00:00: GET " + srv.URL + ": 500 Internal Server Error",
		"last error: GET " + srv.URL + ": 503 Service Unavailable",
	} {
		if !errors.Is(err, ingest.ErrBackingOff) || !strings.Contains(err.Error(), part) {
			t.Errorf("after two failures: %v\nlacks %q", err, part)
		}
	}

	// A success forgets the run of failures.
	now = now.Add(3 * time.Minute)
	up.mu.Lock()
	up.status, up.items = 0, []string{"恢复"}
	up.mu.Unlock()
	if _, err := p.Poll(ctx, src); err != nil {
		t.Fatal(err)
	}
	up.mu.Lock()
	up.status = http.StatusBadGateway
	up.mu.Unlock()
	p.Poll(ctx, src)
	if _, err := p.Poll(ctx, src); err == nil || !strings.Contains(err.Error(), "after 1 failure; first error at 10:04:01: GET "+srv.URL+": 502 Bad Gateway") {
		t.Errorf("after recovery and a new failure: %v", err)
	}
}
