package relay

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A row the server refuses for a reason no retry can fix would otherwise be retried forever: it
// failed, held back the rest of its channel, failed the pass, and the backoff that followed slowed
// every other channel too (one article with a 1 MB title stopped all publishing). Such a row is
// parked in the outbox as a dead letter with its error instead (Outbox.MarkDead), and its channel
// goes on with the next row: the dead row was never stored, so nothing of the channel is out of
// order in the stream, only that one event is missing until an operator resends it.

// Server error codes that mean the message itself can never be stored (nats-server errors.json).
const (
	errCodeMsgTooLarge    jetstream.ErrorCode = 10054 // JSStreamMessageExceedsMaximumErr: above the stream's max_msg_size
	errCodeHeaderTooLarge jetstream.ErrorCode = 10097 // JSStreamHeaderExceedsMaximumErr
	errCodeStoreFailed    jetstream.ErrorCode = 10077 // JSStreamStoreFailedF: the store refused it
)

// permanent says whether err refuses the row itself for good. The client refuses a message above
// the server's max_payload (ErrMaxPayload) or with a subject it cannot parse before sending it.
// Everything else (timeouts, disconnects, no stream, a full stream, a refused chain link) may pass
// on a later attempt.
func permanent(err error) bool {
	if errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject) {
		return true
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errCodeMsgTooLarge, errCodeHeaderTooLarge:
			return true
		case errCodeStoreFailed:
			// The same code says "maximum bytes exceeded", which a later attempt may pass.
			return strings.Contains(apiErr.Description, "message too large")
		}
	}
	return false
}

// deadRow is a row waiting to be parked.
type deadRow struct {
	seq    int64
	reason string
}

// bury parks q.rows[idx], refused for good with err, and lets its channel go on. A chained publish
// the server answered with an error was not stored, so the publishes after it in the segment are
// refused and sent again once it drains (chain.go); sent says whether it was published at all.
func (p *passRun) bury(q *channelQueue, idx int, err error, sent bool) {
	q.info[idx].state = rowDead
	row := q.rows[idx]
	p.toBury = append(p.toBury, deadRow{seq: row.Seq, reason: err.Error()})
	if sent {
		p.chain.broken = p.chain.on
	}
	delete(p.r.uncertain, row.Seq)
	p.r.count(func(s *Stats) { s.DeadLettered++ })
	p.r.log.Error("NATS refused an event for good; parked as a dead letter, its channel goes on",
		slog.String("subject", row.Subject), slog.Int64("seq", row.Seq), slog.String("event_id", row.EventID),
		slog.Int("bytes", len(row.Payload)), slog.Any("error", err))
	p.advance(q)
}
