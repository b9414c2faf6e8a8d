package relay

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// TestRelayResendDeadLetter follows the README's dead-letter story on the real SQLite outbox and
// one relay that keeps running: a row above the stream's max_msg_size is parked, the operator
// raises the limit and runs `syndicate events resend`, and the same relay's next pass publishes the
// row.
func TestRelayResendDeadLetter(t *testing.T) {
	c := connect(t, natstest.Start(t, "").ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	js, stream := c.JetStream(), c.Options().Stream
	setMaxMsgSize(t, js, stream, 16<<10)

	gen := newEventGen(c.Options())
	rows := gen.rows(t, 1, 4)
	rows[3].Payload = append(bytes.Clone(rows[3].Payload[:len(rows[3].Payload)-1]), []byte(`,"pad":"`+string(bytes.Repeat([]byte("x"), 32<<10))+`"}`)...)
	if err := db.CommitBuild(ctx, store.Build{Channel: rows[0].Channel, Events: rows}); err != nil {
		t.Fatal(err)
	}
	r := New(js, db, Options{Stream: stream}, natstest.Log(t))
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dead, total, err := db.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(dead) != 1 {
		t.Fatalf("dead letters = %d (%v), want the big row", total, dead)
	}
	if got := len(readStream(t, js, stream)); got != 3 {
		t.Fatalf("stream holds %d events, want the 3 small ones", got)
	}

	// A pass with nothing to do, as the running relay makes every PollInterval.
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// The operator raises the limit and resends.
	setMaxMsgSize(t, js, stream, -1)
	if n, err := db.ResendDead(ctx, []int64{dead[0].Seq}); err != nil || n != 1 {
		t.Fatalf("ResendDead = %d, %v; want 1 row pending again", n, err)
	}
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := readStream(t, js, stream)
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.MsgID)
	}
	want := []string{rows[0].EventID, rows[1].EventID, rows[2].EventID, rows[3].EventID}
	if len(ids) != len(want) {
		t.Fatalf("stream holds %d events %v, want %d: the resent dead letter after the later row", len(ids), ids, len(want))
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Errorf("event %d = %s, want %s", i, ids[i], want[i])
		}
	}
	if pending, _, err := db.OutboxStats(ctx); err != nil || pending != 0 {
		t.Errorf("outbox pending = %d, %v; want 0", pending, err)
	}
	if st := r.Stats(); st.Published != 4 {
		t.Errorf("stats = %+v, want 5 published", st)
	}
}

// TestRelayResendDuringPass: the operator resends a dead letter while the pass that parked it is
// still reading (a Flush of more rows than one read). The next read returns the row again; the pass
// takes it as a new row behind the rows of its channel read so far instead of failing with "returned row again
// after it was marked sent", and publishes it once.
func TestRelayResendDuringPass(t *testing.T) {
	c := connect(t, natstest.Start(t, "").ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	js, stream := c.JetStream(), c.Options().Stream
	setMaxMsgSize(t, js, stream, 16<<10)

	ob, gen := newMemOutbox(), newEventGen(c.Options())
	rows := gen.rows(t, 2, 60)
	const big = 3 // seq 4, channel ch0
	rows[big].Payload = append(bytes.Clone(rows[big].Payload[:len(rows[big].Payload)-1]), []byte(`,"pad":"`+string(bytes.Repeat([]byte("x"), 32<<10))+`"}`)...)
	ob.add(rows...)
	var resent bool
	var resendErr error
	ob.beforeRead = func(m *memOutbox) {
		m.mu.Lock()
		_, dead := m.dead[big+1]
		m.mu.Unlock()
		if resent || !dead {
			return
		}
		// `syndicate events resend` after raising the limit: the row is pending again.
		resent = true
		rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer rcancel()
		s, err := js.Stream(rctx, stream)
		if err != nil {
			resendErr = err
			return
		}
		cfg := s.CachedInfo().Config
		cfg.MaxMsgSize = -1
		if _, resendErr = js.UpdateStream(rctx, cfg); resendErr != nil {
			return
		}
		m.mu.Lock()
		delete(m.dead, big+1)
		m.mu.Unlock()
	}
	r := New(js, ob, Options{Stream: stream, BatchSize: 4, MaxInFlight: 2}, natstest.Log(t))
	if err := r.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v; want the resent row published as a new row", err)
	}
	if resendErr != nil {
		t.Fatal(resendErr)
	}
	if !resent {
		t.Fatal("the row was not parked before the pass's last read: the test resent nothing")
	}
	msgs := readStream(t, js, stream)
	count := 0
	for _, m := range msgs {
		if m.MsgID == rows[big].EventID {
			count++
		}
	}
	if count != 1 || len(msgs) != len(rows) {
		t.Errorf("stream holds %d events, the resent one %d times; want %d events, it once", len(msgs), count, len(rows))
	}
	if p := ob.pending(); p != 0 || len(ob.dead) != 0 {
		t.Errorf("%d rows pending, dead letters %v; want none", p, ob.dead)
	}
}
