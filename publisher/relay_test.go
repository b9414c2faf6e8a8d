package publisher

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestRelayExactlyOnceInChannelOrder(t *testing.T) {
	tests := []struct {
		name string
		opts RelayOptions
	}{
		{"defaults", RelayOptions{}},
		{"small pages, few in flight", RelayOptions{BatchSize: 37, MaxInFlight: 5}},
		{"pipelined channels", RelayOptions{ChannelWindow: 16, MaxInFlight: 64}},
	}
	n := newTestNATS(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := n.connect(func(o *Options) {
				o.Stream += "_" + string(rune('A'+i))
				o.SubjectPrefix += "." + string(rune('a'+i))
			})
			opts := c.Options()
			ob, gen := newMemOutbox(), newEventGen(opts)
			ob.add(gen.rows(t, 10, 1000)...)
			tt.opts.Stream = opts.Stream
			r := NewRelay(c.JetStream(), ob, tt.opts, testLog(t))

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
	n := newTestNATS(t)
	c := n.connect()
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	rows := gen.rows(t, 1, 1)
	ob.add(rows...)
	r := NewRelay(c.JetStream(), ob, RelayOptions{Stream: n.opts.Stream}, testLog(t))
	ctx := context.Background()
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := c.JetStream().Stream(ctx, n.opts.Stream)
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
// the next run publishes them again and the duplicate window absorbs them.
func TestRelayCrashBetweenAckAndMark(t *testing.T) {
	n := newTestNATS(t)
	c := n.connect()
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	ob.add(gen.rows(t, 4, 100)...)
	ob.failMark = 1
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ropts := RelayOptions{Stream: n.opts.Stream}

	first := NewRelay(c.JetStream(), ob, ropts, testLog(t))
	if err := first.Flush(ctx); !errors.Is(err, errMarkFailed) {
		t.Fatalf("first run: error %v, want the MarkSent failure", err)
	}
	if got := first.Stats(); got.Published != 100 || got.Pending != 100 {
		t.Errorf("first run stats = %+v", got)
	}

	next := NewRelay(c.JetStream(), ob, ropts, testLog(t))
	if err := next.Flush(ctx); err != nil {
		t.Fatalf("next run: %v", err)
	}
	if got := next.Stats(); got.Duplicates != 100 || got.Published != 0 || got.Pending != 0 {
		t.Errorf("next run stats = %+v, want 100 duplicates and nothing new", got)
	}
	if p := ob.pending(); p != 0 {
		t.Errorf("%d rows still pending", p)
	}
	checkExactlyOnce(t, readStream(t, c.JetStream(), n.opts.Stream), gen)
}

// TestRelayOutage stops the embedded server while rows keep arriving and in-flight publishes are
// lost, then starts it again on the same store: every event must arrive once, in channel order.
func TestRelayOutage(t *testing.T) {
	n := newEmbeddedNATS(t)
	c := n.connect()
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	r := NewRelay(c.JetStream(), ob, RelayOptions{
		Stream: n.opts.Stream, PollInterval: 10 * time.Millisecond, MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond, AckWait: time.Second,
	}, testLog(t))
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
	ob.add(gen.rows(t, 10, 2000)...)
	r.Notify()
	eventually(t, 10*time.Second, "the first rows to be sent", func() bool { return sent() > 0 })
	n.stop()
	outageStart := r.Stats().FailedPass
	ob.add(gen.rows(t, 10, 200)...) // written while NATS is down
	r.Notify()
	eventually(t, 10*time.Second, "the relay to notice the outage", func() bool { return r.Stats().FailedPass > outageStart })
	ob.add(gen.rows(t, 10, 100)...)

	n.start()
	ob.add(gen.rows(t, 10, 200)...)
	r.Notify()
	eventually(t, 20*time.Second, "every row to be sent", func() bool { return ob.pending() == 0 })

	checkExactlyOnce(t, readStream(t, c.JetStream(), n.opts.Stream), gen)
	st := r.Stats()
	t.Logf("stats after the outage: %+v", st)
	if st.Published != uint64(gen.total()) {
		t.Errorf("published %d, want %d", st.Published, gen.total())
	}
	if st.Overtaken != 0 {
		t.Errorf("overtaken = %d with a channel window of 1", st.Overtaken)
	}
}

func TestRelayPrune(t *testing.T) {
	n := newTestNATS(t)
	c := n.connect()
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	ob.add(gen.rows(t, 2, 10)...)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r := NewRelay(c.JetStream(), ob, RelayOptions{Stream: n.opts.Stream, Retention: 24 * time.Hour, Now: clock}, testLog(t))
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
