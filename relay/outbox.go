package relay

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// markTimeout bounds a MarkSent; it runs even after the pass was cancelled, since acked rows are
// worth recording at shutdown: each unrecorded one is published again on the next start.
const markTimeout = 5 * time.Second

// storeTimeout bounds the relay's other store calls (reading pending rows, pruning sent ones).
const storeTimeout = 30 * time.Second

// outboxOp is one outbox read or MarkSent, run beside the pass's loop. Only one runs at a time:
// on SQLite a transaction on one connection right after a commit on another throws that
// connection's page cache away, which cost more than running the two side by side gained.
type outboxOp struct {
	mark  bool
	limit int // read: rows asked for
	rows  []syndicate.OutboxRow
	seqs  []int64   // mark: the rows
	dead  []deadRow // mark: rows to park as dead letters
	err   error
}

// startOutboxOp starts, when none runs, a read once the rows ready to publish run low, or a
// MarkSent once enough acked rows gathered. Before a read it marks what is acked, so that the
// read does not fetch those rows again.
func (p *passRun) startOutboxOp(ctx context.Context) {
	if p.op != nil {
		return
	}
	read := p.wantRead()
	switch {
	case (read || p.wantMark()) && len(p.toMark)+len(p.toBury) > 0 && !p.markFailed:
		op := &outboxOp{mark: true, seqs: p.toMark, dead: p.toBury}
		p.op, p.toMark, p.toBury = op, nil, nil
		at := p.r.opts.Now()
		go func() {
			mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
			defer cancel()
			defer func() { p.opDone <- op }()
			defer p.r.recoverOp(op, "MarkSent")
			for _, d := range op.dead {
				if op.err = p.r.outbox.MarkDead(mctx, d.seq, d.reason, at); op.err != nil {
					return
				}
			}
			if len(op.seqs) > 0 {
				op.err = p.r.outbox.MarkSent(mctx, op.seqs, at)
			}
		}()
	case read:
		// The outbox answers from its oldest unsent row, so rows this pass holds (ready, in
		// flight or acked) come back too and are skipped: the limit counts them.
		op := &outboxOp{limit: p.r.opts.BatchSize + len(p.active)}
		p.op, p.known = op, false
		go func() {
			defer func() { p.opDone <- op }()
			defer p.r.recoverOp(op, "PendingEvents")
			// A store that stops answering fails the pass, which is retried with back-off,
			// instead of holding the relay in a read forever.
			rctx, cancel := context.WithTimeout(ctx, storeTimeout)
			defer cancel()
			op.rows, op.err = p.r.outbox.PendingEvents(rctx, op.limit)
		}()
	}
}

// wantRead says whether to read more rows: when half a batch or less is ready to publish (at least
// MaxInFlight), so that the next rows arrive before those run out even when a MarkSent has to
// finish first, and whenever nothing else is left to do.
func (p *passRun) wantRead() bool {
	if p.exhausted || p.stopReading {
		return false
	}
	if p.inFlight == 0 && p.backlog == 0 {
		return true
	}
	return p.backlog <= max(p.r.opts.BatchSize/2, p.r.opts.MaxInFlight) && len(p.active) < 2*p.r.opts.BatchSize+2*p.r.opts.MaxInFlight
}

// wantMark says whether to mark the acked rows now: once a quarter batch gathered, so that a
// MarkSent costs one transaction per few hundred rows, and at the end.
func (p *passRun) wantMark() bool {
	return len(p.toMark) >= max(p.r.opts.BatchSize/4, 1) || p.inFlight == 0 || len(p.toBury) > 0
}

// outboxOpDone takes the outcome of the operation that ran.
func (p *passRun) outboxOpDone(ctx context.Context, op *outboxOp) {
	p.op = nil
	if op.mark {
		p.markDone(op)
	} else {
		p.readDone(ctx, op)
	}
}

// readDone adds the rows read to their channels' queues.
func (p *passRun) readDone(ctx context.Context, op *outboxOp) {
	if op.err != nil {
		p.stop(fmt.Errorf("relay: read outbox: %w", op.err))
		return
	}
	p.known = true
	if len(op.rows) < op.limit {
		p.exhausted = true
	}
	var fresh []*channelQueue // queues that got their first rows: their heads may be uncertain
	for _, row := range op.rows {
		if p.active[row.Seq] {
			continue
		}
		// A store whose MarkSent silently did nothing would make Flush loop forever.
		if p.marked[row.Seq] {
			p.stop(fmt.Errorf("relay: outbox returned row %d again after it was marked sent", row.Seq))
			break
		}
		p.active[row.Seq] = true
		q := p.queue(row)
		if len(q.rows) == 0 {
			fresh = append(fresh, q)
		}
		q.rows = append(q.rows, row)
		q.info = append(q.info, rowInfo{})
		if !q.failed {
			p.backlog++
		}
		if q.foundThrough != 0 {
			p.takeFound(q)
		}
	}
	p.resolveUncertain(ctx, fresh)
}

// markDone records the outcome of a MarkSent.
func (p *passRun) markDone(op *outboxOp) {
	if op.err != nil {
		p.markFailed = true
		p.stop(fmt.Errorf("relay: mark %d outbox rows sent and park %d (JetStream has the sent ones; they will be republished as duplicates): %w",
			len(op.seqs), len(op.dead), op.err))
		return
	}
	for _, seq := range op.seqs {
		delete(p.active, seq)
		p.marked[seq] = true
	}
	// A parked row is not remembered as marked: an operator may resend it (`syndicate events
	// resend`) while this pass runs, and the next read then returns it as a new row at the end
	// of its channel.
	for _, d := range op.dead {
		delete(p.active, d.seq)
	}
}

// ackDeadlines hands out channels closed AckWait after the call, or up to a sixteenth of it later:
// one timer for all the publishes sent within that sixteenth instead of one timer each.
type ackDeadlines struct {
	at time.Time
	ch chan struct{}
}

func (d *ackDeadlines) after(wait time.Duration) <-chan struct{} {
	now := time.Now()
	if d.ch == nil || d.at.Before(now.Add(wait)) {
		ch, late := make(chan struct{}), wait+wait/16
		d.at, d.ch = now.Add(late), ch
		time.AfterFunc(late, func() { close(ch) })
	}
	return d.ch
}

// recoverOp turns a panic of the outbox in op's goroutine, where it would end the process,
// into op's error: the pass fails and is retried like any outbox failure.
func (r *Relay) recoverOp(op *outboxOp, what string) {
	if v := recover(); v != nil {
		r.log.Error("relay: outbox "+what+" panicked", slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
		op.err = fmt.Errorf("outbox %s panicked: %v", what, v)
	}
}
