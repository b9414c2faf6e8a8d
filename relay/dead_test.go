package relay

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/natstest"
)

// TestRelayDeadLetter: channel A holds two poison rows, one above the server's max_payload (the
// client refuses it) and one above the stream's max_msg_size (the server refuses it after the
// rows behind it were sent, chained), among normal rows of A and B. Both are parked with their
// error, and every normal row of both channels is published once, in order, in the same Flush.
func TestRelayDeadLetter(t *testing.T) {
	for server, url := range natstest.Servers(t) {
		t.Run(server, func(t *testing.T) {
			c := connect(t, url)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			js, stream := c.JetStream(), c.Options().Stream
			setMaxMsgSize(t, js, stream, 64<<10)

			ob, gen := newMemOutbox(), newEventGen(c.Options())
			rows := gen.rows(t, 2, 100) // ch1, ch0, ch1, ch0, …
			tooBig := bytes.Repeat([]byte("x"), int(c.NATS().MaxPayload())+1)
			poison := map[int][]byte{4: tooBig, 9: bytes.Repeat([]byte("y"), 100<<10)}
			for at, payload := range poison {
				rows[at].Payload = payload
				subj := rows[at].Subject
				gen.want[subj] = slices.DeleteFunc(gen.want[subj], func(id string) bool { return id == rows[at].EventID })
			}
			gen.n -= len(poison)
			ob.add(rows...)
			r := New(js, ob, Options{Stream: stream, MaxInFlight: 64}, natstest.Log(t))

			if err := r.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v; want the poison rows parked and the rest published", err)
			}
			checkExactlyOnce(t, readStream(t, js, stream), gen)
			if p := ob.pending(); p != 0 {
				t.Errorf("%d rows pending", p)
			}
			for at := range poison {
				if reason := ob.dead[int64(at+1)]; reason == "" {
					t.Errorf("row %d not parked as a dead letter", at+1)
				}
			}
			if len(ob.dead) != len(poison) {
				t.Errorf("dead letters = %v, want rows %v", ob.dead, poison)
			}
			if st := r.Stats(); st.DeadLettered != 2 || st.Published != 98 {
				t.Errorf("stats = %+v, want 2 dead letters and 98 published", st)
			}
		})
	}
}
