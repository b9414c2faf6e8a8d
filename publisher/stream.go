package publisher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrStreamConflict means the stream exists with settings Syndicate cannot change in place
// (subjects, storage, retention, ...). EnsureStream reports it rather than deleting events.
var ErrStreamConflict = errors.New("stream exists with a conflicting configuration")

// StreamConfig returns the configuration EnsureStream creates. It sets only fields nats-server 2.9
// understands, so the same stream works on Debian's 2.9 and on current servers.
func StreamConfig(opts Options) (jetstream.StreamConfig, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return jetstream.StreamConfig{}, err
	}
	return streamConfig(opts), nil
}

func streamConfig(o Options) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:              o.Stream,
		Description:       "Syndicate item events (CloudEvents 1.0), one subject per channel",
		Subjects:          []string{o.Subjects()},
		Retention:         jetstream.LimitsPolicy,
		MaxConsumers:      -1,
		MaxMsgs:           -1,
		MaxBytes:          o.MaxBytes,
		Discard:           jetstream.DiscardOld,
		MaxAge:            o.MaxAge,
		MaxMsgsPerSubject: -1,
		Storage:           jetstream.FileStorage,
		Replicas:          o.Replicas,
		Duplicates:        o.Duplicates,
	}
}

// EnsureStream creates the item stream, or updates the limits Syndicate owns (max age, max bytes,
// duplicate window, replicas, discard policy) when they differ. A stream whose subjects, storage,
// retention or acknowledgement settings differ is reported with ErrStreamConflict and left alone:
// replacing it would delete the events consumers have not read yet.
func EnsureStream(ctx context.Context, js jetstream.JetStream, opts Options) (jetstream.Stream, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	want := streamConfig(opts)
	s, err := js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, want)
		if err == nil {
			return s, nil
		}
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil, fmt.Errorf("publisher: create stream %s: %w", want.Name, err)
		}
		// Another replica created it between our lookup and create: check what it made.
		s, err = js.Stream(ctx, want.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("publisher: look up stream %s: %w", want.Name, err)
	}
	have := s.CachedInfo().Config
	if err := conflicts(have, want); err != nil {
		return nil, fmt.Errorf("publisher: stream %s: %w", want.Name, err)
	}
	if have.MaxAge == want.MaxAge && have.MaxBytes == want.MaxBytes && have.Duplicates == want.Duplicates &&
		have.Replicas == want.Replicas && have.Discard == want.Discard {
		return s, nil
	}
	// Start from the server's own config so fields we do not manage (and fields a newer server
	// added) keep their values.
	upd := have
	upd.MaxAge, upd.MaxBytes, upd.Duplicates = want.MaxAge, want.MaxBytes, want.Duplicates
	upd.Replicas, upd.Discard = want.Replicas, want.Discard
	if s, err = js.UpdateStream(ctx, upd); err != nil {
		return nil, fmt.Errorf("publisher: update stream %s limits: %w", want.Name, err)
	}
	return s, nil
}

// conflicts lists the differences EnsureStream must not fix by itself.
func conflicts(have, want jetstream.StreamConfig) error {
	var diffs []string
	hs, ws := slices.Sorted(slices.Values(have.Subjects)), slices.Sorted(slices.Values(want.Subjects))
	if !slices.Equal(hs, ws) {
		diffs = append(diffs, fmt.Sprintf("subjects %v, want %v", have.Subjects, want.Subjects))
	}
	if have.Storage != want.Storage {
		diffs = append(diffs, fmt.Sprintf("storage %s, want %s", have.Storage, want.Storage))
	}
	if have.Retention != want.Retention {
		diffs = append(diffs, fmt.Sprintf("retention %s, want %s", have.Retention, want.Retention))
	}
	if have.NoAck {
		diffs = append(diffs, "no_ack is set, so publishes are never acknowledged")
	}
	if have.Sealed {
		diffs = append(diffs, "the stream is sealed")
	}
	if have.Mirror != nil {
		diffs = append(diffs, "the stream is a mirror and takes no publishes")
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrStreamConflict, strings.Join(diffs, "; "))
}
