package publisher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// tailIDs runs a non-following Tail and returns the event ids it printed.
func tailIDs(t *testing.T, c *Conn, subject string, since time.Time) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out bytes.Buffer
	var subjects []string
	if subject != "" {
		subjects = strings.Split(subject, ",")
	}
	if err := Tail(ctx, c.JetStream(), c.Options().Stream, subjects, since, false, &out); err != nil {
		t.Fatal(err)
	}
	return eventIDs(t, out.String())
}

// eventIDs parses Tail's output: one CloudEvent per line.
func eventIDs(t testing.TB, out string) []string {
	t.Helper()
	var ids []string
	for line := range strings.Lines(out) {
		var ev syndicate.CloudEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		ids = append(ids, ev.ID)
	}
	return ids
}

func TestTail(t *testing.T) {
	n := newTestNATS(t)
	c := n.connect()
	ctx := context.Background()
	if got := tailIDs(t, c, "", time.Time{}); len(got) != 0 {
		t.Errorf("empty stream: printed %v", got)
	}

	ob, gen := newMemOutbox(), newEventGen(c.Options())
	r := NewRelay(c.JetStream(), ob, RelayOptions{Stream: n.opts.Stream}, testLog(t))
	relay := func(rows []syndicate.OutboxRow) []string {
		ob.add(rows...)
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, row := range rows {
			ids = append(ids, row.EventID)
		}
		return ids
	}
	early := relay(gen.rows(t, 2, 6))
	// The ack came back before Flush returned, so every later event is stored at or after mid.
	mid := time.Now()
	late := relay(gen.rows(t, 2, 4))
	ch1 := gen.want[syndicate.EventSubject(n.opts.SubjectPrefix, []string{"region", "ch1"}, syndicate.EventPublished)]

	// The relay keeps order within a channel only, so across channels compare the sets.
	tests := []struct {
		name    string
		subject string
		since   time.Time
		want    []string
	}{
		{"from the start", "", time.Time{}, slices.Concat(early, late)},
		{"since a time", "", mid, late},
		{"since the future", "", time.Now().Add(time.Hour), nil},
		{"one channel", n.opts.SubjectPrefix + ".items.region.ch1.>", time.Time{}, ch1},
		{"wildcard", n.opts.SubjectPrefix + ".items.>", mid, late},
		// Several filters: one consumer's FilterSubjects on 2.10+, checked by Tail on 2.9.
		{"two filters", n.opts.SubjectPrefix + ".items.region.ch1.>," + n.opts.SubjectPrefix + ".items.*.ch0.*.*.published", time.Time{},
			slices.Concat(early, late)},
		{"type filter", n.opts.SubjectPrefix + ".items.*.*.*.*.removed", time.Time{}, nil},
		{"no such channel", n.opts.SubjectPrefix + ".items.nowhere.>", time.Time{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := tailIDs(t, c, tt.subject, tt.since), slices.Clone(tt.want)
			if !strings.Contains(tt.subject, ".ch") || strings.Contains(tt.subject, ",") {
				slices.Sort(got)
				slices.Sort(want)
			}
			if !slices.Equal(got, want) {
				t.Errorf("printed %d events %v\nwant %d %v", len(got), got, len(want), want)
			}
		})
	}
}

func TestTailErrors(t *testing.T) {
	n := newTestNATS(t)
	c := n.connect()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := Tail(ctx, c.JetStream(), n.opts.Stream+"_MISSING", nil, time.Time{}, false, &bytes.Buffer{}); err == nil {
		t.Error("Tail of a missing stream succeeded")
	}
	if err := Tail(ctx, c.JetStream(), n.opts.Stream, []string{"a..b"}, time.Time{}, true, &bytes.Buffer{}); err == nil {
		t.Error("Tail with a bad subject succeeded")
	}
	if err := Tail(ctx, c.JetStream(), n.opts.Stream, []string{"elsewhere.>"}, time.Time{}, true, &bytes.Buffer{}); err == nil {
		t.Error("Tail with a filter outside the stream succeeded")
	}

	ob, gen := newMemOutbox(), newEventGen(c.Options())
	ob.add(gen.rows(t, 1, 3)...)
	if err := NewRelay(c.JetStream(), ob, RelayOptions{Stream: n.opts.Stream}, testLog(t)).Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := Tail(ctx, c.JetStream(), n.opts.Stream, nil, time.Time{}, true, failWriter{}); !errors.Is(err, errWrite) {
		t.Errorf("Tail to a failing writer: %v, want the write error", err)
	}
}

var errWrite = errors.New("write failed (test)")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

// syncBuffer is a bytes.Buffer safe for one writer and one poller.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestTailFollow(t *testing.T) {
	n := newTestNATS(t)
	c := n.connect()
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	r := NewRelay(c.JetStream(), ob, RelayOptions{Stream: n.opts.Stream}, testLog(t))
	ob.add(gen.rows(t, 3, 3)...)
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- Tail(ctx, c.JetStream(), n.opts.Stream, nil, time.Time{}, true, &out) }()
	lines := func() int { return strings.Count(out.String(), "\n") }
	eventually(t, 10*time.Second, "the stored events", func() bool { return lines() == 3 })

	ob.add(gen.rows(t, 3, 4)...)
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the new events", func() bool { return lines() == 7 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Tail after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Tail did not return after cancel")
	}
	var want []string
	for _, ids := range gen.want {
		want = append(want, ids...)
	}
	got := eventIDs(t, out.String())
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("followed %v\nwant %v", got, want)
	}
}
