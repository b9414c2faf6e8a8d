package relay

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
)

// rowState is what a pass knows about one row.
type rowState uint8

const (
	rowWaiting   rowState = iota // not published, or no answer yet
	rowStored                    // acked as a new message
	rowDuplicate                 // acked as a duplicate of an earlier publish
	rowRefused                   // chained publish refused: not stored, and nothing after it in the chain
	rowFailed                    // error, timeout or disconnect: outcome unknown
	rowDead                      // refused for good: parked as a dead letter (dead.go)
)

type rowInfo struct {
	state   rowState
	chained bool // last published with Nats-Expected-Last-Msg-Id
}

// channelQueue is one channel's rows in this pass, published strictly in order.
type channelQueue struct {
	rows     []syndicate.OutboxRow
	info     []rowInfo
	next     int  // next row to publish
	done     int  // rows [0, done) are acked, in order, and handed to MarkSent
	inFlight int  // published, no answer yet
	failed   bool // a row failed: publish no more rows of this channel in this pass
	// foundThrough: rows up to this Seq are in the stream already (uncertain.go); 0 for none.
	foundThrough int64
}

type pubResult struct {
	q   *channelQueue
	idx int
	ack *jetstream.PubAck
	err error
}

// queue returns the queue of row's channel.
func (p *passRun) queue(row syndicate.OutboxRow) *channelQueue {
	key := row.Channel
	if key == "" {
		key = row.Subject
	}
	q := p.byKey[key]
	if q == nil {
		q = &channelQueue{}
		p.byKey[key] = q
		p.queues = append(p.queues, q)
	}
	return q
}

// publishReady publishes rows round-robin over channels, one per channel per turn so that a busy
// channel cannot starve the others, within MaxInFlight; it returns how many it sent. Chained, a
// channel may fill MaxInFlight, since the chain keeps its order (chain.go); unchained (during
// ChainPause), a channel has one publish in flight, so that the pause costs throughput, never order.
func (p *passRun) publishReady(ctx context.Context) int {
	window := 1
	if p.chain.on {
		window = p.r.opts.MaxInFlight
	}
	sent := 0
	for p.inFlight < p.r.opts.MaxInFlight && p.backlog > 0 && !p.halted && !p.chain.broken {
		q := p.nextQueue(window)
		if q == nil {
			break
		}
		if err := ctx.Err(); err != nil {
			p.halt(err)
			break
		}
		// Publishing into the reconnect buffer would hand the row to a future that fails with
		// ErrDisconnected while the bytes may still be sent later, after rows we retry.
		if st := p.r.js.Conn().Status(); st != nats.CONNECTED {
			p.halt(errNotConnected)
			break
		}
		p.send(q)
		sent++
	}
	return sent
}

func (p *passRun) halt(err error) {
	p.halted = true
	p.stop(err)
}

// nextQueue returns the next queue in turn with a row it may publish now, or nil.
func (p *passRun) nextQueue(window int) *channelQueue {
	n := len(p.queues)
	for k := range n {
		i := (p.rr + k) % n
		q := p.queues[i]
		if !q.failed && q.next < len(q.rows) && q.inFlight < window {
			p.rr = (i + 1) % n
			return q
		}
	}
	return nil
}

// send publishes q's next row.
func (p *passRun) send(q *channelQueue) {
	idx := q.next
	row := q.rows[idx]
	q.next++
	p.backlog--
	q.info[idx].chained = p.chain.on
	f, err := p.r.publish(row, p.chain.expect())
	if err != nil {
		if permanent(err) {
			p.bury(q, idx, err, false) // never sent: the chain goes on from its last link
			return
		}
		p.fail(q, idx, err)
		return
	}
	q.inFlight++
	p.inFlight++
	p.chain.sent(q, idx, msgID(row))
	go p.r.await(f, q, idx, p.results, p.acks.after(p.r.opts.AckWait))
}

// handle records one publish's outcome and hands the acked rows at the head of its channel to
// the marking.
func (p *passRun) handle(pr pubResult) {
	p.inFlight--
	q, r := pr.q, p.r
	q.inFlight--
	row := q.rows[pr.idx]
	switch {
	case pr.err == nil && !pr.ack.Duplicate:
		q.info[pr.idx].state = rowStored
		r.count(func(s *Stats) { s.Published++ })
		delete(r.uncertain, row.Seq)
	case pr.err == nil:
		q.info[pr.idx].state = rowDuplicate
		r.count(func(s *Stats) { s.Duplicates++ })
		delete(r.uncertain, row.Seq)
	case q.info[pr.idx].chained && refused(pr.err):
		q.info[pr.idx].state = rowRefused
		r.count(func(s *Stats) { s.Refused++ })
		p.chain.broken = true
	case permanent(pr.err):
		p.bury(q, pr.idx, pr.err, true)
		return
	default:
		p.fail(q, pr.idx, pr.err)
		r.noteUncertain(row, pr.err)
	}
	p.advance(q)
}

// advance hands the acked rows at the head of q to the marking, passing over parked ones.
func (p *passRun) advance(q *channelQueue) {
	for q.done < q.next {
		switch q.info[q.done].state {
		case rowStored, rowDuplicate:
			p.toMark = append(p.toMark, q.rows[q.done].Seq)
		case rowDead:
		default:
			return
		}
		q.done++
	}
}

// fail records a failed publish and holds back the rest of its channel for this pass.
func (p *passRun) fail(q *channelQueue, idx int, err error) {
	q.info[idx].state = rowFailed
	p.r.count(func(s *Stats) { s.Failures++ })
	// Whatever follows in the chain is refused unless this row was stored after all: end the
	// segment and sort it out when its answers are in (chain.go).
	p.chain.broken = p.chain.on
	if q.failed {
		return
	}
	q.failed = true
	p.backlog -= len(q.rows) - q.next
	row := q.rows[idx]
	p.r.log.Warn("publish event failed; holding back the rest of its channel",
		slog.String("subject", row.Subject), slog.Int64("seq", row.Seq), slog.String("event_id", row.EventID),
		slog.Any("error", err))
	p.stop(fmt.Errorf("relay: publish outbox row %d to %s: %w", row.Seq, row.Subject, err))
}

// noteUnmarked remembers, at the end of a pass, the rows acked but not marked sent: after a
// failure in their channel, or when MarkSent failed (uncertain.go).
func (p *passRun) noteUnmarked() {
	for _, q := range p.queues {
		for i, row := range q.rows {
			if st := q.info[i].state; (st == rowStored || st == rowDuplicate) && p.active[row.Seq] {
				p.r.noteSent(row)
			}
		}
	}
}

// msgID is the row's Nats-Msg-Id: its event id.
func msgID(row syndicate.OutboxRow) string {
	if row.EventID == "" {
		// Every row written by syndicate.OutboxRowFor has an id; a fallback keeps deduplication
		// working for any other writer, since Seq never changes.
		return "outbox-" + strconv.FormatInt(row.Seq, 10)
	}
	return row.EventID
}

// contentType is shared by every message's header: nats.go writes header values out and never
// changes them in place.
var contentType = []string{ContentType}

// publish sends one row asynchronously with its event id as Nats-Msg-Id and, when expect is set,
// Nats-Expected-Last-Msg-Id. The headers are set directly rather than through publish options,
// which cost a few allocations per message.
func (r *Relay) publish(row syndicate.OutboxRow, expect string) (jetstream.PubAckFuture, error) {
	h := nats.Header{
		"Content-Type":                 contentType,
		jetstream.MsgIDHeader:          {msgID(row)},
		jetstream.ExpectedStreamHeader: r.streamHdr,
	}
	if expect != "" {
		h[jetstream.ExpectedLastMsgIDHeader] = []string{expect}
	}
	return r.js.PublishMsgAsync(&nats.Msg{Subject: row.Subject, Data: row.Payload, Header: h},
		// When the context's own max-pending budget is smaller than MaxInFlight, wait for a slot
		// instead of failing after the default 200ms.
		jetstream.WithStallWait(r.opts.AckWait))
}

// await reports the future's outcome, or errAckTimeout once deadline is closed.
func (r *Relay) await(f jetstream.PubAckFuture, q *channelQueue, idx int, results chan<- pubResult, deadline <-chan struct{}) {
	select {
	case ack := <-f.Ok():
		results <- pubResult{q: q, idx: idx, ack: ack}
	case err := <-f.Err():
		results <- pubResult{q: q, idx: idx, err: err}
	case <-deadline:
		results <- pubResult{q: q, idx: idx, err: errAckTimeout}
	}
}
