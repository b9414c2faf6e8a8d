package relay

import (
	"context"
	"errors"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// errAckTimeout is a publish whose ack did not arrive within AckWait; it may have been stored.
var errAckTimeout = errors.New("no ack within the ack wait")

// passRun is one pass over the outbox. It is a pipeline: the next rows are read while earlier ones
// are in flight, and acked rows are marked sent while later ones are, so the outbox's reads and
// writes (milliseconds per few hundred rows each) do not stop the publishing (outbox.go).
type passRun struct {
	r        *Relay
	queues   []*channelQueue
	byKey    map[string]*channelQueue
	rr       int            // round-robin cursor over queues
	active   map[int64]bool // rows read in this pass and not marked sent yet
	marked   map[int64]bool // rows this pass marked sent, not the ones it parked (outbox.go markDone)
	backlog  int            // rows read that may be published now: not sent, channel not held back
	results  chan pubResult // one slot per publish in flight, so a waiter never blocks
	inFlight int
	acks     ackDeadlines // AckWait timers shared by publishes sent close together
	chain    chain        // the current segment of chained publishes (chain.go)

	toMark []int64        // acked rows, in channel order, waiting for the next MarkSent
	toBury []deadRow      // rows refused for good, waiting for MarkDead
	op     *outboxOp      // the outbox read or MarkSent running now; nil when none
	opDone chan *outboxOp // where it reports

	exhausted   bool  // a read found fewer rows than it asked for: the pass ends once they are done
	stopReading bool  // something failed: finish the rows read, read no more
	halted      bool  // cancelled or disconnected: publish nothing more
	markFailed  bool  // a MarkSent failed: mark nothing more in this pass
	known       bool  // whether active is the real backlog; not after a failed read
	firstErr    error // what the pass returns
}

// pass publishes pending rows until the outbox has none left or something fails.
func (r *Relay) pass(ctx context.Context) (err error) {
	r.passMu.Lock()
	defer r.passMu.Unlock()
	if nc := r.js.Conn(); nc != nil && !nc.IsConnected() {
		// Reading rows claims them on PostgreSQL (each read renews the claim), and rows this
		// relay cannot publish would hold their channels from a replica that can.
		return errNotConnected
	}
	p := &passRun{r: r, byKey: map[string]*channelQueue{}, active: map[int64]bool{}, marked: map[int64]bool{},
		results: make(chan pubResult, r.opts.MaxInFlight), opDone: make(chan *outboxOp, 1)}
	defer func() {
		p.noteUnmarked()
		r.endPass(p.left(), p.known, err)
	}()
	return p.run(ctx)
}

// run drives the pipeline until every row read is marked or given up, and nothing is in flight.
func (p *passRun) run(ctx context.Context) error {
	for {
		if p.inFlight == 0 {
			p.endSegment()
		}
		p.startOutboxOp(ctx)
		p.publishReady(ctx)
		if p.inFlight == 0 && p.op == nil {
			// Nothing to wait for, nothing to publish, and nothing left to read or mark.
			return p.firstErr
		}
		// Waiting ignores ctx: every waiter answers within AckWait and every outbox operation
		// soon, and acks that arrive are worth marking rather than republishing.
		select {
		case pr := <-p.results:
			p.handle(pr)
		case op := <-p.opDone:
			p.outboxOpDone(ctx, op)
		}
	}
}

// stop records the pass's first error; the pass finishes the rows it read and reads no more.
func (p *passRun) stop(err error) {
	if p.firstErr == nil {
		p.firstErr = err
	}
	p.stopReading = true
}

// left returns the rows the pass read and did not mark sent.
func (p *passRun) left() []syndicate.OutboxRow {
	var out []syndicate.OutboxRow
	for _, q := range p.queues {
		for _, row := range q.rows {
			if p.active[row.Seq] {
				out = append(out, row)
			}
		}
	}
	return out
}

// endPass records the backlog a pass left behind.
func (r *Relay) endPass(left []syndicate.OutboxRow, known bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Passes++
	if err != nil {
		r.stats.FailedPasses++
	}
	if !known {
		return
	}
	r.stats.Pending = len(left)
	r.oldest = time.Time{}
	for _, row := range left {
		if r.oldest.IsZero() || row.CreatedAt.Before(r.oldest) {
			r.oldest = row.CreatedAt
		}
	}
	if err == nil && len(left) == 0 {
		r.stats.LastSuccess = r.opts.Now()
	}
}

// count updates the counters.
func (r *Relay) count(f func(*Stats)) {
	r.mu.Lock()
	f(&r.stats)
	r.mu.Unlock()
}
