package tail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/publisher"
)

// connect starts a production publisher connection with a stream of its own, deleted when the
// test ends.
func connect(t *testing.T) *publisher.Conn {
	t.Helper()
	stream, prefix := natstest.Names()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := publisher.Start(ctx, publisher.Options{URLs: natstest.URL(t), Stream: stream, SubjectPrefix: prefix}, natstest.Log(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	natstest.DeleteStream(t, c.JetStream(), stream)
	return c
}

// events publishes CloudEvents into a test's stream as the relay would, remembering each
// subject's order.
type events struct {
	c    *publisher.Conn
	n    int
	want map[string][]string // subject → event ids in order
}

// publish stores count events spread round-robin over the channels ch0 … ch(channels-1) and
// returns their ids in order.
func (e *events) publish(t *testing.T, channels, count int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if e.want == nil {
		e.want = map[string][]string{}
	}
	var ids []string
	for range count {
		e.n++
		slug := fmt.Sprintf("ch%d", e.n%channels)
		ev := syndicate.CloudEvent{
			SpecVersion: "1.0", ID: syndicate.NewEventID(), Source: "https://news.example",
			Type: syndicate.EventPublished, Subject: fmt.Sprintf("a%d", e.n), Time: time.Now().UTC(),
			DataContentType: "application/json",
			Data:            syndicate.ItemData{Channel: slug, ArticleID: fmt.Sprintf("a%d", e.n), Title: fmt.Sprintf("Item %d", e.n)},
		}
		row, err := syndicate.OutboxRowFor(ev, syndicate.EventSubject(e.c.Options().SubjectPrefix, []string{"region", slug}, ev.Type), ev.Time)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.JetStream().Publish(ctx, row.Subject, row.Payload, jetstream.WithMsgID(row.EventID)); err != nil {
			t.Fatal(err)
		}
		e.want[row.Subject] = append(e.want[row.Subject], row.EventID)
		ids = append(ids, row.EventID)
	}
	return ids
}

// tailIDs runs a non-following Events and returns the event ids it printed.
func tailIDs(t *testing.T, c *publisher.Conn, subject string, since time.Time) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out bytes.Buffer
	var subjects []string
	if subject != "" {
		subjects = strings.Split(subject, ",")
	}
	if err := Events(ctx, c.JetStream(), c.Options().Stream, subjects, since, false, &out); err != nil {
		t.Fatal(err)
	}
	return eventIDs(t, out.String())
}

// eventIDs parses Events' output: one CloudEvent per line.
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

func TestEvents(t *testing.T) {
	c := connect(t)
	prefix := c.Options().SubjectPrefix
	if got := tailIDs(t, c, "", time.Time{}); len(got) != 0 {
		t.Errorf("empty stream: printed %v", got)
	}

	ev := &events{c: c}
	early := ev.publish(t, 2, 6)
	// The ack came back before publish returned, so every later event is stored at or after mid.
	mid := time.Now()
	late := ev.publish(t, 2, 4)
	ch1 := ev.want[syndicate.EventSubject(prefix, []string{"region", "ch1"}, syndicate.EventPublished)]

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
		{"one channel", prefix + ".items.region.ch1.>", time.Time{}, ch1},
		{"wildcard", prefix + ".items.>", mid, late},
		// Several filters: one consumer's FilterSubjects on 2.10+, checked by Events on 2.9.
		{"two filters", prefix + ".items.region.ch1.>," + prefix + ".items.*.ch0.*.*.published", time.Time{},
			slices.Concat(early, late)},
		{"type filter", prefix + ".items.*.*.*.*.removed", time.Time{}, nil},
		{"no such channel", prefix + ".items.nowhere.>", time.Time{}, nil},
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

func TestEventsErrors(t *testing.T) {
	c := connect(t)
	stream := c.Options().Stream
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := Events(ctx, c.JetStream(), stream+"_MISSING", nil, time.Time{}, false, &bytes.Buffer{}); err == nil {
		t.Error("Events of a missing stream succeeded")
	}
	if err := Events(ctx, c.JetStream(), stream, []string{"a..b"}, time.Time{}, true, &bytes.Buffer{}); err == nil {
		t.Error("Events with a bad subject succeeded")
	}
	if err := Events(ctx, c.JetStream(), stream, []string{"elsewhere.>"}, time.Time{}, true, &bytes.Buffer{}); err == nil {
		t.Error("Events with a filter outside the stream succeeded")
	}

	(&events{c: c}).publish(t, 1, 3)
	if err := Events(ctx, c.JetStream(), stream, nil, time.Time{}, true, failWriter{}); !errors.Is(err, errWrite) {
		t.Errorf("Events to a failing writer: %v, want the write error", err)
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

func TestEventsFollow(t *testing.T) {
	c := connect(t)
	stream := c.Options().Stream
	ev := &events{c: c}
	ev.publish(t, 3, 3)

	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- Events(ctx, c.JetStream(), stream, nil, time.Time{}, true, &out) }()
	lines := func() int { return strings.Count(out.String(), "\n") }
	testwait.For(t, "the stored events", func() bool { return lines() == 3 })

	ev.publish(t, 3, 4)
	testwait.For(t, "the new events", func() bool { return lines() == 7 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Events after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Events did not return after cancel")
	}
	var want []string
	for _, ids := range ev.want {
		want = append(want, ids...)
	}
	got := eventIDs(t, out.String())
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("followed %v\nwant %v", got, want)
	}
}
