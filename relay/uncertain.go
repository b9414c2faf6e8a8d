package relay

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
)

// A publish that failed after it was sent (disconnect, lost ack) may or may not be stored. The
// relay republishes it with the same Nats-Msg-Id and lets JetStream's duplicate window decide, but
// that only works while the window still remembers the first attempt. An outage longer than the
// window (10 minutes by default) would turn the republish into a second copy. Rows acked after
// such a failure in their channel are not marked yet either, and face the same risk.
//
// So once half the window has passed since the first attempt, the relay looks instead. A channel's
// rows reach the stream only in order, with nothing of the channel missing before them: chained, a
// row is only stored right after the one sent before it (chain.go), and unchained during
// ChainPause, a row is only sent after the one before it was acked. So the last message on the
// channel's subjects (one per event type, channelSubjects) tells: if it is one of the rows the
// relay sent and did not mark, that row and every pending row of the channel before it are
// stored; otherwise none is.

// uncertainRow is a row sent in an attempt that may have stored it, and not marked sent.
type uncertainRow struct {
	first   time.Time // the first such attempt
	id      string    // its Nats-Msg-Id
	channel string
}

// noteUncertain remembers a row whose publish failed in a way that leaves its fate unknown.
func (r *Relay) noteUncertain(row syndicate.OutboxRow, err error) {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		return // the server answered: not stored
	}
	r.noteSent(row)
}

// noteSent remembers a row that may be in the stream but is not marked sent.
func (r *Relay) noteSent(row syndicate.OutboxRow) {
	if _, ok := r.uncertain[row.Seq]; !ok {
		r.uncertain[row.Seq] = uncertainRow{first: r.opts.Now(), id: msgID(row), channel: row.Channel}
	}
}

// resolveUncertain looks up the channels of fresh queues whose head is uncertain: the rows the
// stream already holds are marked found, now or as later reads bring them (takeFound).
func (p *passRun) resolveUncertain(ctx context.Context, fresh []*channelQueue) {
	r := p.r
	if len(r.uncertain) == 0 || len(fresh) == 0 || r.js.Conn().Status() != nats.CONNECTED {
		return
	}
	var stream jetstream.Stream
	for _, q := range fresh {
		head := q.rows[0]
		u, ok := r.uncertain[head.Seq]
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
		if r.opts.Now().Sub(u.first) < r.dupWindow/2 {
			continue // the duplicate window still covers a republish
		}
		msg, err := stream.GetLastMsgForSubject(ctx, channelSubjects(head.Subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			r.log.Debug("look up last event of a channel", slog.String("subject", head.Subject), slog.Any("error", err))
			continue
		}
		// The last message may be a row this pass has not read yet: the rows in flight after the
		// head when it failed.
		id := msg.Header.Get(jetstream.MsgIDHeader)
		for seq, v := range r.uncertain {
			if v.id == id && v.channel == head.Channel {
				q.foundThrough = seq
			}
		}
		for _, row := range q.rows {
			if msgID(row) == id {
				q.foundThrough = row.Seq
			}
		}
		if q.foundThrough == 0 {
			continue
		}
		n := p.takeFound(q)
		r.log.Info("events found in the stream after a long outage; not republishing them",
			slog.String("subject", head.Subject), slog.Int64("from_seq", head.Seq), slog.Int64("through_seq", q.foundThrough),
			slog.Int("events_read", n), slog.Uint64("stream_seq", msg.Sequence))
	}
}

// takeFound marks the rows of q up to q.foundThrough as sent without publishing them; later reads
// bring the rest. It returns how many it took.
func (p *passRun) takeFound(q *channelQueue) int {
	n := 0
	for q.foundThrough != 0 && q.next == q.done && q.next < len(q.rows) {
		row := q.rows[q.next]
		if row.Seq > q.foundThrough {
			q.foundThrough = 0
			break
		}
		q.info[q.next].state = rowDuplicate
		p.toMark = append(p.toMark, row.Seq)
		delete(p.r.uncertain, row.Seq)
		q.next++
		q.done++
		p.backlog--
		n++
		if row.Seq == q.foundThrough {
			q.foundThrough = 0
		}
	}
	p.r.count(func(s *Stats) { s.FoundStored += uint64(n) })
	return n
}

// channelSubjects is the filter of every subject of the channel whose event is on subject: the
// subject with its last token, the event type, made a wildcard (syndicate.EventSubject); nats-server
// 2.9 takes a wildcard in a last-message lookup. A subject of another layout (rows written before
// the type ended the subject) is its channel's only subject.
func channelSubjects(subject string) string {
	i := strings.LastIndexByte(subject, '.')
	if i < 0 || strings.Count(subject, ".") < syndicate.MaxChannelDepth+2 {
		return subject
	}
	switch subject[i+1:] {
	case "published", "updated", "removed":
		return subject[:i] + ".*"
	}
	return subject
}
