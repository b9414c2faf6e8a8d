// Package relay copies the store's outbox rows to the JetStream item stream exactly once per
// event id, in each channel's order (the transactional-outbox pattern). The connection, the
// embedded server and the stream's configuration are the publisher package's; the relay needs only
// a JetStream handle and an Outbox.
package relay

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/publisher"
)

// Outbox is what the relay needs from the store.
type Outbox interface {
	// PendingEvents returns up to limit unsent rows in Seq order.
	PendingEvents(ctx context.Context, limit int) ([]syndicate.OutboxRow, error)
	// MarkSent marks rows sent; called only after JetStream acked them.
	MarkSent(ctx context.Context, seqs []int64, at time.Time) error
	// MarkDead parks a row the server refused for good, with the error; PendingEvents returns it
	// no more (dead.go).
	MarkDead(ctx context.Context, seq int64, reason string, at time.Time) error
	// PruneSent deletes rows sent before the given time; returns how many.
	PruneSent(ctx context.Context, before time.Time) (int64, error)
}

// ContentType is the Content-Type header of every event: structured-mode CloudEvents JSON
// (CloudEvents NATS protocol binding 1.0, §3.1).
const ContentType = "application/cloudevents+json"

// MaxRetryGap is the longest the relay waits between two attempts at the same row: the largest
// backoff plus the ack wait (up to a sixteenth late, see ackDeadlines). publisher.MinDuplicates is chosen to
// exceed it, so a retried row always falls inside JetStream's duplicate window.
const MaxRetryGap = maxBackoffCap + maxAckWait + maxAckWait/16

const (
	maxBackoffCap = 30 * time.Second
	maxAckWait    = 15 * time.Second
)

// Options tunes the relay; the zero value is ready to use.
type Options struct {
	Stream        string        // expected stream (Nats-Expected-Stream); default publisher.DefaultStream
	BatchSize     int           // rows read from the outbox at once; default 2000
	MaxInFlight   int           // unacknowledged publishes at once; default publisher.DefaultMaxInFlight
	AckWait       time.Duration // wait for one ack; default publisher.DefaultAckWait, at most 15s
	PollInterval  time.Duration // look for rows nobody announced with Notify; default 2s
	MinBackoff    time.Duration // first wait after a failed pass; default 200ms
	MaxBackoff    time.Duration // longest wait; default and at most 30s
	Retention     time.Duration // keep sent rows this long; default 7 days
	PruneInterval time.Duration // default 1h
	Now           func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Stream == "" {
		o.Stream = publisher.DefaultStream
	}
	if o.BatchSize <= 0 {
		// Fewer, larger reads and marks: each outbox transaction has a fixed cost, and reads also
		// fetch again the rows still in flight (see passRun.startOutboxOp).
		o.BatchSize = 2000
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = publisher.DefaultMaxInFlight
	}
	if o.AckWait <= 0 {
		o.AckWait = publisher.DefaultAckWait
	}
	o.AckWait = min(o.AckWait, maxAckWait)
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 || o.MaxBackoff > maxBackoffCap {
		o.MaxBackoff = maxBackoffCap
	}
	o.MinBackoff = min(o.MinBackoff, o.MaxBackoff)
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.PruneInterval <= 0 {
		o.PruneInterval = time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Stats are the relay's counters since New, plus the outbox backlog it last saw.
type Stats struct {
	Pending      int           // unsent rows after the last pass (a lower bound when a pass failed)
	Lag          time.Duration // age of the oldest row left unsent by the last pass; 0 when none
	Published    uint64        // rows JetStream stored as new messages
	Duplicates   uint64        // rows JetStream acknowledged as already stored (a republish)
	FoundStored  uint64        // rows found in the stream after a long outage and marked without a republish
	Failures     uint64        // publish attempts that failed: error, timeout or disconnect
	Refused      uint64        // chained publishes the stream refused because the one before was not stored last; sent again
	Conflicts    uint64        // times another publisher broke the chain; the relay then publishes unchained for ChainPause
	DeadLettered uint64        // rows the server refused for good, parked as dead letters (dead.go)
	Pruned       uint64        // sent rows deleted after the retention
	Passes       uint64        // passes over the outbox
	FailedPasses uint64        // passes that ended in an error
	LastSuccess  time.Time     // end of the last pass that left nothing pending
}

// Relay copies outbox rows to JetStream (the transactional-outbox pattern). Each row is published
// with its event id as Nats-Msg-Id and marked sent only after JetStream acknowledged it, so a row
// is delivered at least once and JetStream's duplicate window turns that into exactly once. A pass
// reads the next rows while earlier ones are in flight and marks acked rows in the background.
//
// Per-channel order: rows of one channel are published in Seq order, and after the first failure
// in a channel no later row of that channel is published or marked until the failed one is
// stored. Publishes are chained (chain.go): each carries Nats-Expected-Last-Msg-Id
// naming the publish sent just before it, so the stream stores it only right after that one. What
// the stream holds of a chain is therefore always a prefix of it, whatever fails (a lost ack, a
// refused message, a stream leader change, the client library's own no-responders retry), and a
// channel's rows can be pipelined without ever being stored out of order. Another publisher
// writing to the stream breaks the chain; the relay notices, resends what was refused and
// publishes unchained for ChainPause, one row per channel in flight: a later row is only sent
// after the earlier one's ack, so the stream keeps channel order across failures then too.
//
// While the connection is down the relay publishes nothing (the outbox is the buffer, not the
// client's reconnect buffer), backs off with jitter, and resumes as soon as NATS reconnects. Rows
// whose publish failed with ErrDisconnected or without an ack may have been stored; they are
// republished with the same id and the duplicate window decides, or, after an outage longer than
// half that window, looked up in the stream first (see uncertain.go).
//
// Residual risks: a crash between the ack and MarkSent followed by a restart more than the
// duplicate window later stores those rows a second time (the relay cannot tell them apart from
// rows never sent). Several relays may share one outbox only if the outbox hands each channel to
// one relay at a time (store/postgres claims whole channels); otherwise two relays publish the
// same rows, which deduplication absorbs but whose channel order it cannot restore. And the outbox
// must hand out a channel's rows in the order they were written; the relay cannot reorder what it
// never saw.
type Relay struct {
	js     jetstream.JetStream
	outbox Outbox
	opts   Options
	log    *slog.Logger
	notify chan struct{}
	// streamHdr is the Nats-Expected-Stream header value, shared by every message.
	streamHdr []string

	passMu sync.Mutex // one pass at a time: Run and Flush may overlap
	// Guarded by passMu: rows sent and not marked whose publish failed or came after a failure,
	// and the stream's duplicate window (see uncertain.go).
	uncertain  map[int64]uncertainRow
	dupWindow  time.Duration
	chainPause time.Time // publish unchained until then: another publisher broke the chain

	mu        sync.Mutex
	stats     Stats
	oldest    time.Time // CreatedAt of the oldest row left unsent by the last pass
	lastPrune time.Time
}

// New returns a relay from outbox to the stream behind js; it does nothing until Run or Flush.
func New(js jetstream.JetStream, outbox Outbox, opts Options, log *slog.Logger) *Relay {
	if log == nil {
		log = slog.Default()
	}
	opts = opts.withDefaults()
	return &Relay{js: js, outbox: outbox, opts: opts, log: log, notify: make(chan struct{}, 1),
		streamHdr: []string{opts.Stream}, uncertain: map[int64]uncertainRow{}}
}

// Notify wakes the relay now, e.g. after a build wrote rows. It never blocks.
func (r *Relay) Notify() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Flush publishes every row pending now and returns the first error. Unlike Run it does not retry,
// so a shutdown is not held up by a NATS outage; the rows stay in the outbox for the next start.
func (r *Relay) Flush(ctx context.Context) error {
	return r.pass(ctx)
}

// Run relays until ctx is done: at once, on Notify, every PollInterval, and again after a failure
// with jittered exponential backoff, cut short when the connection comes back. It prunes sent rows
// older than Retention every PruneInterval. It returns nil when ctx ends.
func (r *Relay) Run(ctx context.Context) error {
	// Resume as soon as the connection is back instead of sleeping out the backoff.
	var reconnected chan nats.Status
	if nc := r.js.Conn(); nc != nil {
		reconnected = nc.StatusChanged(nats.CONNECTED)
		defer nc.RemoveStatusListener(reconnected)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	failed := 0                // failed passes since the last success or reconnect: drives the backoff
	var failingSince time.Time // first failure of the current trouble, for the log
	for {
		r.maybePrune(ctx)
		err := r.pass(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait, wake := r.opts.PollInterval, r.notify
		if err != nil {
			failed++
			wait = r.backoff(failed)
			// Builds keep calling Notify during an outage; they must not defeat the backoff.
			wake = nil
			level := slog.LevelDebug
			if failingSince.IsZero() {
				failingSince, level = r.opts.Now(), slog.LevelWarn
			}
			r.log.Log(ctx, level, "relay pass failed; will retry", slog.Any("error", err),
				slog.Int("attempt", failed), slog.Duration("retry_in", wait))
		} else {
			if !failingSince.IsZero() {
				r.log.Info("relay recovered", slog.Duration("after", r.opts.Now().Sub(failingSince)))
			}
			failed, failingSince = 0, time.Time{}
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
		case <-reconnected:
			// Start the backoff over: a server that just came back may need a moment for JetStream.
			failed = 0
		case <-timer.C:
		}
		timer.Stop() // since Go 1.23 a stopped timer delivers no stale tick to the next Reset
	}
}

// backoff returns the wait before retry number n: exponential from MinBackoff, capped at
// MaxBackoff, with full jitter over its upper half so replicas do not retry in step. It is not
// cenkalti/backoff's: that jitters around the capped interval, so a wait could pass MaxBackoff and
// a retried row fall outside the duplicate window MaxRetryGap sizes.
func (r *Relay) backoff(n int) time.Duration {
	d := r.opts.MaxBackoff
	if n < 32 {
		d = min(r.opts.MinBackoff<<(n-1), r.opts.MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

func (r *Relay) maybePrune(ctx context.Context) {
	now := r.opts.Now()
	r.mu.Lock()
	due := now.Sub(r.lastPrune) >= r.opts.PruneInterval
	if due {
		r.lastPrune = now
	}
	r.mu.Unlock()
	if !due {
		return
	}
	pctx, cancel := context.WithTimeout(ctx, storeTimeout)
	n, err := r.outbox.PruneSent(pctx, now.Add(-r.opts.Retention))
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("prune sent outbox rows", slog.Any("error", err))
		}
		return
	}
	r.mu.Lock()
	r.stats.Pruned += uint64(n)
	r.mu.Unlock()
	if n > 0 {
		r.log.Info("pruned sent outbox rows", slog.Int64("rows", n), slog.Duration("retention", r.opts.Retention))
	}
}

// Stats returns a snapshot of the counters.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	if !r.oldest.IsZero() {
		s.Lag = max(r.opts.Now().Sub(r.oldest), 0)
	}
	return s
}

// errNotConnected ends a pass while NATS is down; the rows stay in the outbox.
var errNotConnected = errors.New("relay: nats is not connected")
