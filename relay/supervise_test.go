package relay

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/natstest"
)

// panickyOutbox is a memOutbox whose PruneSent panics its first panics calls (a panic that
// escapes Run: the relay prunes outside its passes' own recovery), and whose PendingEvents
// panics its first readPanics calls (a failed pass, retried).
type panickyOutbox struct {
	*memOutbox
	panics, readPanics atomic.Int32
}

func (p *panickyOutbox) PendingEvents(ctx context.Context, limit int) ([]syndicate.OutboxRow, error) {
	if p.readPanics.Add(-1) >= 0 {
		panic("outbox exploded in PendingEvents")
	}
	return p.memOutbox.PendingEvents(ctx, limit)
}

func (p *panickyOutbox) PruneSent(ctx context.Context, before time.Time) (int64, error) {
	if p.panics.Add(-1) >= 0 {
		panic("outbox exploded in PruneSent")
	}
	return p.memOutbox.PruneSent(ctx, before)
}

// syncBuffer is a log destination written from the relay's goroutine and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A relay that panics is started again, and a panic of its outbox reads is a failed pass that is
// retried: the events still reach the stream, and each panic is logged with its stack.
func TestSuperviseRestartsAfterPanic(t *testing.T) {
	c := connect(t, natstest.URL(t))
	ob := &panickyOutbox{memOutbox: newMemOutbox()}
	ob.panics.Store(1)
	ob.readPanics.Store(1)
	gen := newEventGen(c.Options())
	ob.add(gen.rows(t, 2, 10)...)
	logs := &syncBuffer{}
	r := New(c.JetStream(), ob, Options{Stream: c.Options().Stream}, slog.New(slog.NewTextHandler(logs, nil)))

	panicked, cancel, done := supervised(r)
	testwait.For(t, "the events relayed after the restart", func() bool { return ob.pending() == 0 })
	cancel()
	<-done
	checkExactlyOnce(t, readStream(t, c.JetStream(), c.Options().Stream), gen)
	if n := panicked.Load(); n != 1 {
		t.Errorf("panicked reported %d times, want 1", n)
	}
	if log := logs.String(); !strings.Contains(log, "relay panicked; restarting it") || !strings.Contains(log, "panickyOutbox).PruneSent") ||
		!strings.Contains(log, "relay: outbox PendingEvents panicked") || !strings.Contains(log, "panickyOutbox).PendingEvents") {
		t.Errorf("no log of the panic with its stack:\n%s", log)
	}
}

// supervised runs r.Supervise until cancel, counting the panics it reports; done closes when
// Supervise returned.
func supervised(r *Relay) (panicked *atomic.Int32, cancel func(), done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	panicked = new(atomic.Int32)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		r.Supervise(ctx, func() { panicked.Add(1) })
	}()
	return panicked, cancel, stopped
}

// Supervise returns when its context ends while it waits to restart a relay that keeps panicking.
func TestSuperviseStopsWhileWaitingToRestart(t *testing.T) {
	c := connect(t, natstest.URL(t))
	ob := &panickyOutbox{memOutbox: newMemOutbox()}
	ob.panics.Store(1 << 30)
	r := New(c.JetStream(), ob, Options{Stream: c.Options().Stream}, discardLog())

	panicked, cancel, done := supervised(r)
	testwait.For(t, "the first panic", func() bool { return panicked.Load() >= 1 })
	cancel()
	testwait.For(t, "Supervise to return", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	if n := panicked.Load(); n != 1 {
		t.Errorf("restarted during a one-second wait: %d panics", n)
	}
}
