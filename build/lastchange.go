package build

import (
	"context"
	"sync"
	"time"
)

// changeReads shares the store's newest change number among the jobs of a tick. A cron tick
// starts every channel's job at once; each asks whether anything changed, and a thousand equal
// queries cost a thousand round trips. A caller joins the next read that starts after it asked,
// never one already under way, so it sees every change committed before its own question, as
// if it had asked alone; meanwhile everyone who asks waits for that same next read.
type changeReads struct {
	read func(context.Context) (int64, error)

	mu      sync.Mutex
	pending *changeRead // not started yet: callers join it
	busy    bool        // a read is under way
}

type changeRead struct {
	done chan struct{}
	seq  int64
	err  error
}

// readTimeout bounds one shared read; a caller gives up sooner when its own context ends.
const readTimeout = 30 * time.Second

func (c *changeReads) get(ctx context.Context) (int64, error) {
	c.mu.Lock()
	r := c.pending
	if r == nil {
		r = &changeRead{done: make(chan struct{})}
		c.pending = r
		if !c.busy {
			c.startLocked()
		}
	}
	c.mu.Unlock()
	select {
	case <-r.done:
		return r.seq, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// startLocked starts the pending read; the caller holds mu.
func (c *changeReads) startLocked() {
	r := c.pending
	c.pending, c.busy = nil, true
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
		r.seq, r.err = c.read(ctx)
		cancel()
		close(r.done)
		c.mu.Lock()
		c.busy = false
		if c.pending != nil {
			c.startLocked()
		}
		c.mu.Unlock()
	}()
}
