package relay

import (
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Chained publishing lets the relay keep many publishes of one channel in flight without ever
// storing a channel out of order.
//
// Within a segment (the publishes between two moments when nothing is in flight) every publish but
// the first carries Nats-Expected-Last-Msg-Id set to the Nats-Msg-Id of the publish sent just
// before it. The stream checks that header against the id of its last stored message when it
// stores the message, and refuses the message otherwise (error 10070). So a chained message is
// stored only directly after its predecessor, and what the stream holds of a segment is always a
// prefix of it, in the order sent: if a publish is not stored, nothing sent after it in the
// segment is. That holds whatever went wrong with the earlier publish: a refusal (size limit,
// storage full), an ack lost to a disconnect or timeout, a message the client library retried
// after "no responders", or one lost in a stream leader change. In a clustered stream the check
// runs where messages are applied, in the replicated log's order, on every replica alike, so a
// leader change does not open a gap either. Only Nats-Msg-Id deduplication comes first: a
// duplicate is acked (it is stored, earlier) and its successor is then refused unless the
// duplicate's original is the last message.
//
// The relay publishes a channel's rows in Seq order, so each channel's part of the stream is in
// Seq order too. A refused row was not stored: once the segment has drained, the refused rows are
// sent again, each channel from its first refused row, in a new segment. A row that failed in any
// other way holds back the rest of its channel for the pass.
//
// The header names the stream's last message, not the channel's, so the chain assumes the relay
// is the stream's only publisher. Another publisher's message between two chained publishes makes
// the stream refuse the second, though its predecessor was acked as stored: the relay counts that
// as a conflict (Stats().Conflicts), resends the refused rows and publishes unchained, one row per
// channel in flight, for ChainPause, then tries the chain again. Order is never at stake in a
// conflict, only throughput.
//
// The header stays on the stored message, like Nats-Msg-Id; consumers can ignore it.

// ChainPause is how long the relay publishes unchained after another publisher broke its chain.
const ChainPause = time.Minute

// errCodeWrongLastMsgID is the server's answer to a publish whose Nats-Expected-Last-Msg-Id is not
// the stream's last message id (JSStreamWrongLastMsgIDErrF; tested on nats-server 2.9 and 2.15). A
// server too old to send error codes makes a refusal look like any other failure: slower, still
// in order.
const errCodeWrongLastMsgID jetstream.ErrorCode = 10070

// chain is the current segment of a pass.
type chain struct {
	on     bool        // the segment's publishes are chained
	last   string      // Nats-Msg-Id of the segment's latest publish; "" before its first
	broken bool        // a chained publish failed or was refused: send no more until the segment drains
	links  []chainLink // the segment's publishes in the order sent
}

type chainLink struct {
	q   *channelQueue
	idx int
}

// expect is the Nats-Expected-Last-Msg-Id of the next publish; "" for none.
func (c *chain) expect() string {
	if !c.on {
		return ""
	}
	return c.last
}

// sent records a publish of q.rows[idx] with the given id.
func (c *chain) sent(q *channelQueue, idx int, id string) {
	if c.on {
		c.last = id
		c.links = append(c.links, chainLink{q, idx})
	}
}

// refused says whether err is the stream refusing a chained publish.
func refused(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeWrongLastMsgID
}

// chained says whether a new segment should be chained.
func (r *Relay) chained() bool {
	return !r.opts.Now().Before(r.chainPause)
}

// endSegment closes the current segment once nothing is in flight: every publish of it has an
// answer. A new one starts with an unchained first publish, which is safe because nothing can
// overtake it (a channel with an unresolved row is held back).
func (p *passRun) endSegment() {
	c := &p.chain
	if len(c.links) > 0 {
		p.settleSegment()
	}
	clear(c.links) // drop the queue pointers
	c.links = c.links[:0]
	c.last, c.broken = "", false
	c.on = p.r.chained()
}

// settleSegment queues the refused rows again and looks for another publisher's interference.
func (p *passRun) settleSegment() {
	var rewind map[*channelQueue]int // channel → its first refused row
	conflict := false
	for i, l := range p.chain.links {
		if l.q.info[l.idx].state != rowRefused {
			continue
		}
		// Stored, yet not the last message when the next one came: someone else published between.
		if i > 0 {
			prev := p.chain.links[i-1]
			conflict = conflict || prev.q.info[prev.idx].state == rowStored
		}
		if rewind == nil {
			rewind = map[*channelQueue]int{}
		}
		if at, ok := rewind[l.q]; !ok || l.idx < at {
			rewind[l.q] = l.idx
		}
	}
	for q, at := range rewind {
		if q.failed {
			continue // held back; its rows go again in the next pass
		}
		// Nothing of the channel from its first refused row on was stored by this segment (rows
		// acked as duplicates were stored before): send them all again, in order.
		for i := at; i < q.next; i++ {
			q.info[i].state = rowWaiting
		}
		p.backlog += q.next - at
		q.next = at
	}
	if conflict {
		r := p.r
		r.chainPause = r.opts.Now().Add(ChainPause)
		r.count(func(s *Stats) { s.Conflicts++ })
		r.log.Warn("another publisher wrote to the stream between two chained publishes; publishing unchained for a while",
			slog.String("stream", r.opts.Stream), slog.Duration("for", ChainPause))
	}
}
