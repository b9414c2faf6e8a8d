// Package tail prints the events of the item stream for people (`syndicate events tail`): one JSON
// document per line, in stream order, optionally following new events.
package tail

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// tailRetry is the wait before Events recreates its consumer after losing it while following.
const tailRetry = time.Second

// Events writes the events of stream to w, one JSON document per line, oldest first. It starts at the
// beginning of the stream, or at since when that is not zero; subjects are filters (none: all). Without
// follow it returns after the last event stored when it started; with follow it waits for new
// events until ctx ends, which is not an error.
//
// An ordered consumer delivers each event once and in stream order, and is recreated from the last
// printed event when it is lost (a reconnect, a server restart). Several filters go to the server
// as one consumer's FilterSubjects when it is nats-server 2.10 or later (multiFilter); an older
// server reads the whole stream and Events keeps the events that match, still in stream order.
func Events(ctx context.Context, js jetstream.JetStream, stream string, subjects []string, since time.Time, follow bool, w io.Writer) error {
	// Check first: the ordered consumer would retry a missing stream or a bad filter forever.
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return fmt.Errorf("tail: stream %s: %w", stream, err)
	}
	have := s.CachedInfo().Config.Subjects
	for _, subject := range subjects {
		if !server.IsValidSubject(subject) {
			return fmt.Errorf("tail: stream %s: bad subject filter %q", stream, subject)
		}
		// nats-server 2.9 refuses such a filter and 2.10+ accepts it and waits forever: say so at once.
		if !slices.ContainsFunc(have, func(ss string) bool { return server.SubjectsCollide(ss, subject) }) {
			return fmt.Errorf("tail: stream %s: subject filter %q matches none of its subjects %v", stream, subject, have)
		}
	}
	if !follow && s.CachedInfo().State.Msgs == 0 {
		return nil
	}
	t := &tailer{js: js, stream: stream, out: bufio.NewWriter(w)}
	switch {
	case len(subjects) == 1 || len(subjects) > 1 && multiFilter(js.Conn()):
		t.filters = subjects
	case len(subjects) > 1:
		t.match = subjects
	}
	for attempt := 0; ; attempt++ {
		err := t.run(ctx, since, follow)
		if ferr := t.flush(); ferr != nil || t.werr != nil {
			return cmp.Or(t.werr, ferr) // the reader went away: nothing more to do
		}
		if err == nil || ctx.Err() != nil {
			return nil
		}
		// A failure before the first event is a setup problem worth reporting; later ones, while
		// following, are outages to sit out.
		if !follow || attempt == 0 && t.lastSeq == 0 {
			return fmt.Errorf("tail: stream %s: %w", stream, err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(tailRetry):
		}
	}
}

// multiFilter reports whether the server nc is connected to takes several filter subjects on one
// consumer (FilterSubjects): nats-server 2.10 and later. nats-server 2.9 takes one.
func multiFilter(nc *nats.Conn) bool {
	if nc == nil {
		return false
	}
	var major, minor int
	if _, err := fmt.Sscanf(nc.ConnectedServerVersion(), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 2 || major == 2 && minor >= 10
}

type tailer struct {
	js      jetstream.JetStream
	stream  string
	filters []string // given to the consumer
	match   []string // checked here: several filters on a server that takes one
	out     *bufio.Writer
	lastSeq uint64 // stream sequence of the last event written
	werr    error  // the first failure to write to out: final, unlike a lost consumer
	buf     bytes.Buffer
}

func (t *tailer) flush() error {
	if err := t.out.Flush(); err != nil {
		return fmt.Errorf("tail: write: %w", err)
	}
	return nil
}

// run consumes until caught up (when not following) or ctx ends, and returns nil then; or until
// the consumer fails or a write fails.
func (t *tailer) run(ctx context.Context, since time.Time, follow bool) error {
	cfg := jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverAllPolicy,
		// Recovery inside the library is bounded; Events itself resumes after lastSeq.
		MaxResetAttempts: 3,
	}
	switch {
	case t.lastSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, t.lastSeq+1
	case !since.IsZero():
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	cfg.FilterSubjects = t.filters
	cons, err := t.js.OrderedConsumer(ctx, t.stream, cfg)
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	if info := cons.CachedInfo(); !follow && info != nil && info.NumPending == 0 {
		return nil
	}
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		meta, err := msg.Metadata()
		if err != nil {
			return err
		}
		t.lastSeq = meta.Sequence.Stream
		if t.matches(msg.Subject()) {
			if err := t.write(msg, meta.Sequence.Stream); err != nil {
				return err
			}
		}
		if meta.NumPending == 0 {
			// Caught up: show what we have before waiting for more.
			if err := t.flush(); err != nil {
				return err
			}
			if !follow {
				return nil
			}
		}
	}
}

// matches says whether a message on subject passes the filters Events checks itself.
func (t *tailer) matches(subject string) bool {
	return len(t.match) == 0 || slices.ContainsFunc(t.match, func(f string) bool { return server.SubjectMatchesFilter(subject, f) })
}

// write prints one event as a single line of JSON. A payload that is not JSON (a foreign publisher
// on our subjects) is wrapped, so the output stays one JSON document per line.
func (t *tailer) write(msg jetstream.Msg, seq uint64) error {
	t.buf.Reset()
	if err := json.Compact(&t.buf, msg.Data()); err != nil {
		t.buf.Reset()
		doc, _ := json.Marshal(struct {
			Subject string `json:"subject"`
			Seq     uint64 `json:"stream_seq"`
			Data    string `json:"invalid_json"`
		}{msg.Subject(), seq, string(msg.Data())})
		t.buf.Write(doc)
	}
	t.buf.WriteByte('\n')
	if _, err := t.out.Write(t.buf.Bytes()); err != nil {
		t.werr = fmt.Errorf("tail: write: %w", err)
		return t.werr
	}
	return nil
}
