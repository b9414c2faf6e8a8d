package publisher

import (
	"context"
	"errors"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
)

// A publish that failed after it was sent (disconnect, lost ack) may or may not be stored. The
// relay republishes it with the same Nats-Msg-Id and lets JetStream's duplicate window decide, but
// that only works while the window still remembers the first attempt. An outage longer than the
// window (10 minutes by default) would turn the republish into a second copy.
//
// So once half the window has passed since the first attempt, the relay looks instead: with one
// row of a channel in flight at a time (ChannelWindow 1), nothing of that channel was published
// after the uncertain row, so the row is stored exactly when it is the last message on its
// subject. With a larger window that reasoning fails, and the relay republishes as usual.

// noteUncertain remembers a row whose publish failed in a way that leaves its fate unknown.
func (r *Relay) noteUncertain(row syndicate.OutboxRow, err error) {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		return // the server answered: not stored
	}
	if _, ok := r.uncertain[row.Seq]; !ok {
		r.uncertain[row.Seq] = r.opts.Now()
	}
}

// resolveUncertain marks the uncertain channel heads that are already in the stream as sent.
func (r *Relay) resolveUncertain(ctx context.Context, queues []*channelQueue, res *pageResult) {
	if len(r.uncertain) == 0 || r.opts.ChannelWindow != 1 || r.js.Conn().Status() != nats.CONNECTED {
		return
	}
	var stream jetstream.Stream
	for _, q := range queues {
		head := q.rows[0]
		first, ok := r.uncertain[head.Seq]
		if !ok {
			continue
		}
		if stream == nil {
			s, err := r.js.Stream(ctx, r.opts.Stream)
			if err != nil {
				r.log.Debug("look up stream for uncertain rows", slog.Any("error", err))
				return
			}
			stream, r.dupWindow = s, s.CachedInfo().Config.Duplicates
		}
		if r.opts.Now().Sub(first) < r.dupWindow/2 {
			continue // the duplicate window still covers a republish
		}
		msg, err := stream.GetLastMsgForSubject(ctx, head.Subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			r.log.Debug("look up last event of a channel", slog.String("subject", head.Subject), slog.Any("error", err))
			continue
		}
		if msg.Header.Get(jetstream.MsgIDHeader) != msgID(head) {
			continue
		}
		q.state[0] = rowDuplicate
		q.next, q.done = 1, 1
		res.sent = append(res.sent, head.Seq)
		res.found++
		delete(r.uncertain, head.Seq)
		r.log.Info("event found in the stream after a long outage; not republishing it",
			slog.String("subject", head.Subject), slog.Int64("seq", head.Seq), slog.Uint64("stream_seq", msg.Sequence))
	}
}
