package publisher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
)

// errAckTimeout is a publish whose ack did not arrive within AckWait; it may have been stored.
var errAckTimeout = errors.New("no ack within the ack wait")

// markTimeout bounds the MarkSent after a cancelled pass: acked rows are worth recording even at
// shutdown, since each unrecorded one is published again on the next start.
const markTimeout = 5 * time.Second

// rowState is what a pass knows about one row.
type rowState uint8

const (
	rowWaiting   rowState = iota // not published, or no answer yet
	rowStored                    // acked as a new message
	rowDuplicate                 // acked as a duplicate of an earlier publish
	rowFailed                    // error, timeout or disconnect: outcome unknown
)

// channelQueue is one channel's rows within a page, published strictly in order.
type channelQueue struct {
	rows     []syndicate.OutboxRow
	state    []rowState
	next     int  // next row to publish
	done     int  // rows [0, done) are acked, in order, and ready to mark
	inFlight int  // published, no answer yet
	failed   bool // a row failed: publish no more rows of this channel in this pass
}

type pubResult struct {
	q   *channelQueue
	idx int
	ack *jetstream.PubAck
	err error
}

// pageResult is the outcome of publishing one page of rows.
type pageResult struct {
	sent      []int64 // seqs to mark sent
	left      []syndicate.OutboxRow
	firstErr  error
	published uint64
	dups      uint64
	found     uint64
	failures  uint64
	overtaken uint64
}

// pass publishes pages of pending rows until the outbox has none left or something fails.
func (r *Relay) pass(ctx context.Context) (err error) {
	r.passMu.Lock()
	defer r.passMu.Unlock()
	var left []syndicate.OutboxRow
	known := false // whether left is the real backlog; not after a failed read
	defer func() { r.endPass(left, known, err) }()

	marked := map[int64]bool{}
	for {
		known = false
		rows, err := r.outbox.PendingEvents(ctx, r.opts.BatchSize)
		if err != nil {
			return fmt.Errorf("publisher: read outbox: %w", err)
		}
		known = true
		if len(rows) == 0 {
			left = nil
			return nil
		}
		for _, row := range rows {
			// A store whose MarkSent silently did nothing would make Flush loop forever.
			if marked[row.Seq] {
				left = rows
				return fmt.Errorf("publisher: outbox returned row %d again after it was marked sent", row.Seq)
			}
		}
		res := r.publishPage(ctx, rows)
		left = res.left
		r.addCounts(res)
		if len(res.sent) > 0 {
			mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
			err := r.outbox.MarkSent(mctx, res.sent, r.opts.Now())
			cancel()
			if err != nil {
				left = rows
				return fmt.Errorf("publisher: mark %d outbox rows sent (JetStream has them; they will be republished as duplicates): %w", len(res.sent), err)
			}
			for _, seq := range res.sent {
				marked[seq] = true
			}
		}
		if res.firstErr != nil {
			return res.firstErr
		}
		if len(rows) < r.opts.BatchSize {
			return nil
		}
	}
}

// publishPage publishes rows channel by channel, keeping at most MaxInFlight publishes and
// ChannelWindow per channel unacknowledged, and returns once every publish has an answer.
func (r *Relay) publishPage(ctx context.Context, rows []syndicate.OutboxRow) pageResult {
	var queues []*channelQueue
	byChannel := map[string]*channelQueue{}
	for _, row := range rows {
		key := row.Channel
		if key == "" {
			key = row.Subject
		}
		q := byChannel[key]
		if q == nil {
			q = &channelQueue{}
			byChannel[key] = q
			queues = append(queues, q)
		}
		q.rows = append(q.rows, row)
		q.state = append(q.state, rowWaiting)
	}

	var res pageResult
	results := make(chan pubResult, r.opts.MaxInFlight) // never blocks a waiter: one slot per publish in flight
	inFlight := 0
	stop := false // no more publishing in this page
	r.resolveUncertain(ctx, queues, &res)
	fail := func(q *channelQueue, idx int, err error) {
		q.state[idx] = rowFailed
		res.failures++
		if q.failed {
			return
		}
		q.failed = true
		row := q.rows[idx]
		r.log.Warn("publish event failed; holding back the rest of its channel",
			slog.String("subject", row.Subject), slog.Int64("seq", row.Seq), slog.String("event_id", row.EventID),
			slog.Any("error", err))
		if res.firstErr == nil {
			res.firstErr = fmt.Errorf("publisher: publish outbox row %d to %s: %w", row.Seq, row.Subject, err)
		}
	}

	for {
		// Publish round-robin, one row per channel per sweep, so a busy channel cannot starve the others.
		for progress := true; progress && !stop; {
			progress = false
			for _, q := range queues {
				if inFlight >= r.opts.MaxInFlight {
					break
				}
				if q.failed || q.next >= len(q.rows) || q.inFlight >= r.opts.ChannelWindow {
					continue
				}
				if err := ctx.Err(); err != nil {
					stop = true
					if res.firstErr == nil {
						res.firstErr = err
					}
					break
				}
				// Publishing into the reconnect buffer would hand the row to a future that fails with
				// ErrDisconnected while the bytes may still be sent later, after rows we retry.
				if st := r.js.Conn().Status(); st != nats.CONNECTED {
					stop = true
					if res.firstErr == nil {
						res.firstErr = errNotConnected
					}
					break
				}
				idx := q.next
				q.next++
				f, err := r.publish(q.rows[idx])
				if err != nil {
					fail(q, idx, err)
					continue
				}
				q.inFlight++
				inFlight++
				progress = true
				go r.await(f, q, idx, results)
			}
		}
		if inFlight == 0 {
			break
		}
		// Waiting ignores ctx: every waiter answers within AckWait, and acks that arrive are worth
		// marking rather than republishing.
		pr := <-results
		inFlight--
		pr.q.inFlight--
		switch {
		case pr.err != nil:
			fail(pr.q, pr.idx, pr.err)
			r.noteUncertain(pr.q.rows[pr.idx], pr.err)
		case pr.ack.Duplicate:
			pr.q.state[pr.idx] = rowDuplicate
			res.dups++
			delete(r.uncertain, pr.q.rows[pr.idx].Seq)
		default:
			pr.q.state[pr.idx] = rowStored
			res.published++
			delete(r.uncertain, pr.q.rows[pr.idx].Seq)
		}
		q := pr.q
		for q.done < q.next && (q.state[q.done] == rowStored || q.state[q.done] == rowDuplicate) {
			res.sent = append(res.sent, q.rows[q.done].Seq)
			q.done++
		}
	}

	for _, q := range queues {
		// Rows after the first failure stay unsent even when acked; count those that may now sit in
		// the stream ahead of the failed one.
		firstFailed := false
		for i := q.done; i < len(q.rows); i++ {
			if q.state[i] == rowFailed {
				firstFailed = true
			}
			if firstFailed && q.state[i] == rowStored {
				res.overtaken++
				r.log.Warn("event stored while an earlier event of its channel failed; the channel may be out of order",
					slog.String("subject", q.rows[i].Subject), slog.Int64("seq", q.rows[i].Seq))
			}
			res.left = append(res.left, q.rows[i])
		}
	}
	return res
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

// publish sends one row asynchronously with its event id as Nats-Msg-Id.
func (r *Relay) publish(row syndicate.OutboxRow) (jetstream.PubAckFuture, error) {
	msg := &nats.Msg{Subject: row.Subject, Data: row.Payload, Header: nats.Header{}}
	msg.Header.Set("Content-Type", ContentType)
	return r.js.PublishMsgAsync(msg,
		jetstream.WithMsgID(msgID(row)),
		jetstream.WithExpectStream(r.opts.Stream),
		// When the context's own max-pending budget is smaller than MaxInFlight, wait for a slot
		// instead of failing after the default 200ms.
		jetstream.WithStallWait(r.opts.AckWait))
}

// await reports the future's outcome, or errAckTimeout after AckWait.
func (r *Relay) await(f jetstream.PubAckFuture, q *channelQueue, idx int, results chan<- pubResult) {
	t := time.NewTimer(r.opts.AckWait)
	defer t.Stop()
	select {
	case ack := <-f.Ok():
		results <- pubResult{q: q, idx: idx, ack: ack}
	case err := <-f.Err():
		results <- pubResult{q: q, idx: idx, err: err}
	case <-t.C:
		results <- pubResult{q: q, idx: idx, err: errAckTimeout}
	}
}

func (r *Relay) addCounts(res pageResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats.Published += res.published
	r.stats.Duplicates += res.dups
	r.stats.FoundStored += res.found
	r.stats.Failures += res.failures
	r.stats.Overtaken += res.overtaken
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
