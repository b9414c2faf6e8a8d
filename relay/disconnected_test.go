package relay

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/natstest"
)

// A relay cut off from NATS reads no outbox rows: on PostgreSQL each read claims (or renews the
// claim on) the rows' channels, and a relay that cannot publish them would hold them from a
// replica that can. Once the connection is back it publishes them.
func TestNoReadsWhileDisconnected(t *testing.T) {
	n := natstest.Restartable(t)
	c := connect(t, n.URL)
	ob, gen := newMemOutbox(), newEventGen(c.Options())
	var reads atomic.Int64
	ob.beforeRead = func(*memOutbox) { reads.Add(1) }
	r := New(c.JetStream(), ob, Options{Stream: c.Options().Stream, AckWait: time.Second}, natstest.Log(t))
	ob.add(gen.rows(t, 2, 3)...)

	n.Stop()
	testwait.For(t, "the client to notice the outage", func() bool { return !c.JetStream().Conn().IsConnected() })
	before := reads.Load()
	if err := r.Flush(context.Background()); !errors.Is(err, errNotConnected) {
		t.Fatalf("a pass while disconnected: err = %v, want %v", err, errNotConnected)
	}
	if got := reads.Load() - before; got != 0 {
		t.Errorf("a pass while disconnected read the outbox %d times, want 0", got)
	}

	n.Start()
	testwait.For(t, "the client to reconnect", func() bool { return c.JetStream().Conn().IsConnected() })
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := ob.pending(); p != 0 {
		t.Errorf("%d rows pending after the reconnect, want 0", p)
	}
}
