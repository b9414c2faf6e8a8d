package natstest

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// URL returns the server a test runs against when one is enough: the external server named by
// SYNDICATE_TEST_NATS_URL when set (CI: Debian's nats-server 2.9), else an embedded one.
func URL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return Start(t, "").ClientURL()
}

// Names returns a stream name and a subject prefix no other test uses, so that tests sharing an
// external server do not collide.
func Names() (stream, prefix string) {
	id := strconv.FormatUint(rand.Uint64(), 36)
	return "SYNDICATE_TEST_" + id, "syndtest." + id
}

// DeleteStream removes a stream a test created when the test ends; a missing one is fine. The
// connection behind js must still be open then: register it after the connection's cleanup.
func DeleteStream(t testing.TB, js jetstream.JetStream, name string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Logf("natstest: delete stream %s: %v", name, err)
		}
	})
}

// Log returns a logger that writes warnings and errors through t.Log until the test is over (a
// client's goroutines may log after it).
func Log(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(p[:len(p)-1]))
	}
	return len(p), nil
}
