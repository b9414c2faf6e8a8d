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

// TestBackoffDoublesUpToMax: a failing source waits BackoffBase, then twice as long after each
// further failure, never longer than BackoffMax and without jitter.
func TestBackoffDoublesUpToMax(t *testing.T) {
	srv := httptest.NewServer(&upstream{status: http.StatusInternalServerError})
	defer srv.Close()
	tests := []struct {
		name      string
		base, max time.Duration
		waits     []time.Duration
	}{
		{"doubles then caps", time.Minute, 5 * time.Minute, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 5 * time.Minute, 5 * time.Minute}},
		{"base above max", 10 * time.Minute, 3 * time.Minute, []time.Duration{3 * time.Minute, 3 * time.Minute}},
		{"no base", 0, 2 * time.Minute, []time.Duration{2 * time.Minute, 2 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := newPoller(t)
			p.BackoffBase, p.BackoffMax = tt.base, tt.max
			now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
			p.Now = func() time.Time { return now }
			src := ingest.Source{Name: "down", URL: srv.URL, Channels: []string{"lingling"}}
			for i, wait := range tt.waits {
				if _, err := p.Poll(context.Background(), src); err == nil || errors.Is(err, ingest.ErrBackingOff) {
					t.Fatalf("failure %d: %v", i+1, err)
				}
				_, err := p.Poll(context.Background(), src)
				want := "until " + now.Add(wait).Format(time.TimeOnly) + " after "
				if !errors.Is(err, ingest.ErrBackingOff) || !strings.Contains(err.Error(), want) {
					t.Fatalf("after failure %d: %v\nwant %q (a wait of %s)", i+1, err, want, wait)
				}
				now = now.Add(wait)
			}
		})
	}
}
