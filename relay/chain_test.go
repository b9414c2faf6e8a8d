package relay

import (
	"bytes"
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/natstest"
)

// TestRelayChainRefusedRowKeepsOrder: the stream refuses a row in the middle of a channel (no room
// for it under the stream's MaxBytes, a refusal that may pass later) while the channel's next rows
// are already in flight. None of them is stored ahead of it (the stream refuses them, Refused
// counts them), and once the stream takes it the channel arrives complete and in order.
func TestRelayChainRefusedRowKeepsOrder(t *testing.T) {
	c := connect(t, natstest.URL(t))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, stream := c.JetStream(), c.Options().Stream
	limitBytes(t, js, stream, true)
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	rows := gen.rows(t, 2, 200)
	const big = 5 // the third row of its channel
	rows[big].Payload = bigPayload
	ob.add(rows...)
	r := New(js, ob, Options{Stream: stream, MaxInFlight: 64}, natstest.Log(t))

	if err := r.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded; want the refused row's error")
	}
	if st := r.Stats(); st.Refused == 0 {
		t.Errorf("stats = %+v, want rows refused behind the failed one: else the scenario does not test the chain", st)
	}
	checkHeldBack(t, readStream(t, js, stream), gen, rows[big])

	limitBytes(t, js, stream, false)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkExactlyOnce(t, readStream(t, js, stream), gen)
}

// checkHeldBack verifies that the stream holds every generated event in channel order except, in
// failed's channel, failed and everything after it: nothing of that channel overtook it.
func checkHeldBack(t testing.TB, msgs []storedMsg, gen *eventGen, failed syndicate.OutboxRow) {
	t.Helper()
	got := map[string][]string{}
	for _, m := range msgs {
		got[m.Subject] = append(got[m.Subject], m.MsgID)
	}
	for subject, want := range gen.want {
		if subject == failed.Subject {
			want = want[:slices.Index(want, failed.EventID)] // held back from the failed row on
		}
		if !slices.Equal(got[subject], want) {
			t.Errorf("%s holds %d events, want %d; first difference at %d", subject, len(got[subject]), len(want),
				firstDiff(got[subject], want))
		}
	}
}

// bigPayload does not fit a stream under limitBytes, yet fits the server's max_payload: the stream
// refuses it for now ("maximum bytes exceeded"), not for good, as it would a message above
// max_msg_size (dead.go).
var bigPayload = bytes.Repeat([]byte("x"), 900<<10)

// limitBytes makes the stream refuse new messages beyond 800 KiB more than it holds (on), or lifts
// that (off). The limit counts what the stream holds: a lower one would delete old messages.
func limitBytes(t *testing.T, js jetstream.JetStream, stream string, on bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.MaxBytes, cfg.Discard = -1, jetstream.DiscardOld
	if on {
		cfg.MaxBytes, cfg.Discard = int64(s.CachedInfo().State.Bytes)+800<<10, jetstream.DiscardNew
	}
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}

// TestRelayChainConflict: another publisher writes to the stream while the relay publishes, which
// breaks the chain. The relay resends what the stream refused, every channel arrives once and in
// order, and it publishes unchained until ChainPause has passed, then chained again. The pause
// keeps one row per channel in flight: a row that fails during it has nothing of its channel
// stored ahead of it.
func TestRelayChainConflict(t *testing.T) {
	url := natstest.URL(t)
	c := connect(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	js, stream := c.JetStream(), c.Options().Stream
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	ob.add(gen.rows(t, 5, 3000)...)
	r := New(js, ob, Options{Stream: stream, Now: clock}, natstest.Log(t))

	other := c.Options().SubjectPrefix + ".items.other"
	started, stop, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := js.Publish(ctx, other, []byte("x")); err != nil {
				done <- err
				return
			}
			if i == 0 {
				close(started)
			}
		}
	}()
	<-started
	err := r.Flush(ctx)
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Conflicts == 0 || st.Refused == 0 {
		t.Errorf("stats = %+v, want a conflict and refused rows", st)
	}
	ours := func() []storedMsg {
		return slices.DeleteFunc(readStream(t, js, stream), func(m storedMsg) bool { return m.Subject == other })
	}
	checkExactlyOnce(t, ours(), gen)

	// Within ChainPause: unchained, one row per channel in flight, so the rows behind one the
	// stream refuses are not stored ahead of it.
	limitBytes(t, js, stream, true)
	rows := gen.rows(t, 1, 10)
	rows[2].Payload = bigPayload
	ob.add(rows...)
	if err := r.Flush(ctx); err == nil {
		t.Fatal("Flush succeeded; want the refused row's error")
	}
	checkHeldBack(t, ours(), gen, rows[2])
	limitBytes(t, js, stream, false)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := ours()
	for _, m := range msgs[len(msgs)-10:] {
		if m.Expect != "" {
			t.Errorf("message %d chained during the pause", m.Seq)
		}
	}
	checkExactlyOnce(t, msgs, gen)

	// After it: chained again; only a segment's first publish has no predecessor to name.
	mu.Lock()
	now = now.Add(ChainPause)
	mu.Unlock()
	ob.add(gen.rows(t, 5, 10)...)
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msgs = ours()
	last := msgs[len(msgs)-10:]
	for i, m := range last[1:] {
		if m.Expect != last[i].MsgID {
			t.Errorf("message %d names %q as its predecessor, want %q", m.Seq, m.Expect, last[i].MsgID)
		}
	}
	checkExactlyOnce(t, msgs, gen)
}

// TestRelayUncertainChainedTail: rows in flight behind an uncertain head were stored before a long
// outage. They are found in the stream, also those the pass reads only later, and not republished.
func TestRelayUncertainChainedTail(t *testing.T) {
	url := natstest.URL(t)
	c := connect(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, stream := c.JetStream(), c.Options().Stream
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	ob.add(gen.rows(t, 1, 5)...)
	pending, _ := ob.PendingEvents(ctx, 5)
	for _, row := range pending[:3] {
		if _, err := js.Publish(ctx, row.Subject, row.Payload, jetstream.WithMsgID(row.EventID)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	r := New(js, ob, Options{Stream: stream, BatchSize: 1, Now: func() time.Time { return now }}, natstest.Log(t))
	for _, row := range pending[:3] {
		r.uncertain[row.Seq] = uncertainRow{first: now.Add(-6 * time.Minute), id: row.EventID, channel: row.Channel}
	}

	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.FoundStored != 3 || st.Published != 2 || st.Duplicates != 0 || st.Pending != 0 {
		t.Errorf("stats = %+v, want 3 found and 2 published", st)
	}
	if len(r.uncertain) != 0 {
		t.Errorf("still uncertain: %v", r.uncertain)
	}
	checkExactlyOnce(t, readStream(t, js, stream), gen)
}

// setMaxMsgSize changes the stream's largest accepted message; a larger one is refused for good.
func setMaxMsgSize(t *testing.T, js jetstream.JetStream, stream string, size int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	cfg.MaxMsgSize = size
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}
