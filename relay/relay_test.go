package relay

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/publisher"
)

func TestRelayExactlyOnceInChannelOrder(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"defaults", Options{}},
		{"small pages, few in flight", Options{BatchSize: 37, MaxInFlight: 5}},
	}
	url := natstest.URL(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connect(t, url)
			opts := c.Options()
			ob, gen := newMemOutbox(), newEventGen(opts)
			ob.add(gen.rows(t, 10, 1000)...)
			tt.opts.Stream = opts.Stream
			r := New(c.JetStream(), ob, tt.opts, natstest.Log(t))

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if p := ob.pending(); p != 0 {
				t.Errorf("%d rows still pending", p)
			}
			msgs := readStream(t, c.JetStream(), opts.Stream)
			checkExactlyOnce(t, msgs, gen)
			st := r.Stats()
			if st.Published != 1000 || st.Duplicates != 0 || st.Failures != 0 || st.Pending != 0 || st.Lag != 0 {
				t.Errorf("stats = %+v", st)
			}
			// A second flush finds nothing to do.
			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := r.Stats().Published; got != 1000 {
				t.Errorf("published %d after a second flush", got)
			}
		})
	}
}

func TestRelayHeaders(t *testing.T) {
	url := natstest.URL(t)
	c := connect(t, url)
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	rows := gen.rows(t, 1, 1)
	ob.add(rows...)
	r := New(c.JetStream(), ob, Options{Stream: c.Options().Stream}, natstest.Log(t))
	ctx := context.Background()
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := c.JetStream().Stream(ctx, c.Options().Stream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get(jetstream.MsgIDHeader); got != rows[0].EventID {
		t.Errorf("Nats-Msg-Id = %q, want %q", got, rows[0].EventID)
	}
	if got := msg.Header.Get("Content-Type"); got != ContentType {
		t.Errorf("Content-Type = %q", got)
	}
	if msg.Subject != rows[0].Subject || string(msg.Data) != string(rows[0].Payload) {
		t.Errorf("stored %s %q, want %s %q", msg.Subject, msg.Data, rows[0].Subject, rows[0].Payload)
	}
}

// TestRelayCrashBetweenAckAndMark: JetStream has the events but the store never recorded it, so
// the next run publishes them again and the duplicate window absorbs them. Rows written since are
// published after them; a chained publish after a duplicate may be refused, which is not another
// publisher's doing.
func TestRelayCrashBetweenAckAndMark(t *testing.T) {
	url := natstest.URL(t)
	c := connect(t, url)
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	ob.add(gen.rows(t, 4, 100)...)
	ob.failMark = 1
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ropts := Options{Stream: c.Options().Stream}

	first := New(c.JetStream(), ob, ropts, natstest.Log(t))
	if err := first.Flush(ctx); !errors.Is(err, errMarkFailed) {
		t.Fatalf("first run: error %v, want the MarkSent failure", err)
	}
	if got := first.Stats(); got.Published != 100 || got.Pending != 100 {
		t.Errorf("first run stats = %+v", got)
	}

	ob.add(gen.rows(t, 4, 50)...)
	next := New(c.JetStream(), ob, ropts, natstest.Log(t))
	if err := next.Flush(ctx); err != nil {
		t.Fatalf("next run: %v", err)
	}
	if got := next.Stats(); got.Duplicates != 100 || got.Published != 50 || got.Pending != 0 || got.Conflicts != 0 {
		t.Errorf("next run stats = %+v, want 100 duplicates, 50 new and no conflict", got)
	}
	if p := ob.pending(); p != 0 {
		t.Errorf("%d rows still pending", p)
	}
	checkExactlyOnce(t, readStream(t, c.JetStream(), c.Options().Stream), gen)
}

// TestRelayOutage stops the embedded server while rows keep arriving and in-flight publishes are
// lost, then starts it again on the same store: every event must arrive once, in channel order.
func TestRelayOutage(t *testing.T) {
	n := natstest.Restartable(t)
	c := connect(t, n.URL)
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	r := New(c.JetStream(), ob, Options{
		Stream: c.Options().Stream, PollInterval: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, AckWait: time.Second,
	}, natstest.Log(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	sent := func() int { return gen.total() - ob.pending() }

	// Stop the server while a backlog is being published, so acks are lost in flight.
	ob.add(gen.rows(t, 10, 5000)...)
	r.Notify()
	testwait.For(t, "the first rows to be sent", func() bool { return sent() > 0 })
	n.Stop()
	outageStart := r.Stats().FailedPasses
	ob.add(gen.rows(t, 10, 200)...) // written while NATS is down
	r.Notify()
	testwait.For(t, "the relay to notice the outage", func() bool { return r.Stats().FailedPasses > outageStart })
	ob.add(gen.rows(t, 10, 100)...)

	n.Start()
	ob.add(gen.rows(t, 10, 200)...)
	r.Notify()
	testwait.For(t, "every row to be sent", func() bool { return ob.pending() == 0 })

	checkExactlyOnce(t, readStream(t, c.JetStream(), c.Options().Stream), gen)
	st := r.Stats()
	t.Logf("stats after the outage: %+v", st)
	// A publish whose ack was lost in the shutdown comes back as a duplicate when retried (or is
	// found stored); so does a row acked behind a failed one in its channel, which the pass could
	// not mark. So every row is counted at least once, and none is counted as new twice.
	if got := st.Published + st.Duplicates + st.FoundStored; got < uint64(gen.total()) {
		t.Errorf("published %d + duplicates %d + found %d = %d, want at least %d", st.Published, st.Duplicates, st.FoundStored, got, gen.total())
	}
	if st.Published > uint64(gen.total()) {
		t.Errorf("published %d new messages for %d rows", st.Published, gen.total())
	}
	if st.Conflicts != 0 {
		t.Errorf("conflicts = %d: the relay is the stream's only publisher", st.Conflicts)
	}
}

func TestRelayPrune(t *testing.T) {
	url := natstest.URL(t)
	c := connect(t, url)
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	ob.add(gen.rows(t, 2, 10)...)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r := New(c.JetStream(), ob, Options{Stream: c.Options().Stream, Retention: 24 * time.Hour, Now: clock}, natstest.Log(t))
	ctx := context.Background()
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	r.maybePrune(ctx)
	if got := r.Stats().Pruned; got != 0 {
		t.Errorf("pruned %d rows sent just now", got)
	}
	now = now.Add(25 * time.Hour)
	r.maybePrune(ctx)
	if got := r.Stats().Pruned; got != 10 {
		t.Errorf("pruned %d rows a day after sending, want 10", got)
	}
}

// TestRelayUncertainAfterLongOutage: a row whose publish failed after it was sent is looked up in
// the stream instead of republished once the duplicate window may have forgotten it.
func TestRelayUncertainAfterLongOutage(t *testing.T) {
	tests := []struct {
		name      string
		stored    bool          // the uncertain publish did reach the stream
		before    bool          // an earlier event of the channel is the last one in the stream
		after     time.Duration // since the failed attempt
		wantFound uint64
		wantDup   uint64
		wantNew   uint64
	}{
		{"stored, window may have passed", true, false, 6 * time.Minute, 1, 0, 0},
		{"stored, window still covers it", true, false, time.Minute, 0, 1, 0},
		{"lost, window may have passed", false, true, 6 * time.Minute, 0, 0, 1},
		{"lost, nothing in the channel yet", false, false, 6 * time.Minute, 0, 0, 1},
	}
	url := natstest.URL(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connect(t, url)
			ctx := context.Background()
			js, stream := c.JetStream(), c.Options().Stream
			ob, gen := newMemOutbox(), newEventGen(c.Options())
			rows := gen.rows(t, 1, 2)
			ob.add(rows[1])
			row, _ := ob.PendingEvents(ctx, 1)
			publishRow := func(r syndicate.OutboxRow) {
				if _, err := js.Publish(ctx, r.Subject, r.Payload, jetstream.WithMsgID(r.EventID)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.before {
				publishRow(rows[0])
			}
			if tt.stored {
				publishRow(row[0])
			}
			now := time.Now()
			r := New(js, ob, Options{Stream: stream, Now: func() time.Time { return now }}, natstest.Log(t))
			r.uncertain[row[0].Seq] = uncertainRow{first: now.Add(-tt.after), id: row[0].EventID, channel: row[0].Channel}

			if err := r.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			st := r.Stats()
			if st.FoundStored != tt.wantFound || st.Duplicates != tt.wantDup || st.Published != tt.wantNew || st.Pending != 0 {
				t.Errorf("stats = %+v, want found %d, duplicates %d, published %d", st, tt.wantFound, tt.wantDup, tt.wantNew)
			}
			if len(r.uncertain) != 0 {
				t.Errorf("still uncertain: %v", r.uncertain)
			}
			want := 1
			if tt.before {
				want = 2
			}
			if got := len(readStream(t, js, stream)); got != want {
				t.Errorf("stream holds %d messages, want %d", got, want)
			}
		})
	}
}

// TestRelayRunNotify: with a poll interval far beyond the test, only Notify can get rows out.
func TestRelayRunNotify(t *testing.T) {
	url := natstest.URL(t)
	c := connect(t, url)
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	r := New(c.JetStream(), ob, Options{Stream: c.Options().Stream, PollInterval: time.Hour}, natstest.Log(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	testwait.For(t, "the first (empty) pass", func() bool { return r.Stats().Passes > 0 })
	for round := range 3 {
		ob.add(gen.rows(t, 3, 10)...)
		r.Notify()
		testwait.For(t, "notified rows to be sent", func() bool { return ob.pending() == 0 })
		if got := r.Stats().Published; got != uint64(10*(round+1)) {
			t.Errorf("round %d: published %d", round, got)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run returned %v after cancel", err)
	}
	checkExactlyOnce(t, readStream(t, c.JetStream(), c.Options().Stream), gen)
}

func TestRelayBackoff(t *testing.T) {
	r := New(nil, nil, Options{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Hour}, nil)
	if r.opts.MaxBackoff != maxBackoffCap {
		t.Errorf("MaxBackoff = %s, want it capped at %s", r.opts.MaxBackoff, maxBackoffCap)
	}
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{5, 800 * time.Millisecond, 1600 * time.Millisecond},
		{20, 15 * time.Second, 30 * time.Second},
		{1000, 15 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			if d := r.backoff(tt.attempt); d < tt.min || d > tt.max {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", tt.attempt, d, tt.min, tt.max)
			}
		}
	}
	if MaxRetryGap >= publisher.MinDuplicates {
		t.Errorf("MaxRetryGap %s must stay below MinDuplicates %s", MaxRetryGap, publisher.MinDuplicates)
	}
}

// TestRelayUncertainAcrossTypes: a channel's events are on one subject per type, so the lookup
// after a long outage must find the channel's last event whatever its type. Two uncertain rows, a
// publish then a removal, both reached the stream: both are found, neither is stored twice.
func TestRelayUncertainAcrossTypes(t *testing.T) {
	url := natstest.URL(t)
	c := connect(t, url)
	ctx := context.Background()
	js, stream := c.JetStream(), c.Options().Stream
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	rows := gen.rows(t, 1, 2)
	removal := rows[1]
	removal.Subject = syndicate.EventSubject(c.Options().SubjectPrefix, []string{"region", "ch0"}, syndicate.EventRemoved)
	ob.add(rows[0], removal)
	pending, _ := ob.PendingEvents(ctx, 2)
	now := time.Now()
	r := New(js, ob, Options{Stream: stream, Now: func() time.Time { return now }}, natstest.Log(t))
	for _, row := range pending {
		if _, err := js.Publish(ctx, row.Subject, row.Payload, jetstream.WithMsgID(row.EventID)); err != nil {
			t.Fatal(err)
		}
		r.uncertain[row.Seq] = uncertainRow{first: now.Add(-6 * time.Minute), id: row.EventID, channel: row.Channel}
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.FoundStored != 2 || st.Published != 0 {
		t.Errorf("stats = %+v, want both rows found in the stream and none published again", st)
	}
	if got := len(readStream(t, js, stream)); got != 2 {
		t.Errorf("stream holds %d messages, want 2", got)
	}
}
