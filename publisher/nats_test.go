package publisher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
)

// externalNATSEnv names an external server for the tests (CI: Debian's nats-server 2.9).
const externalNATSEnv = "SYNDICATE_TEST_NATS_URL"

// The credentials of the tests' embedded servers; the service generates its own.
const testUser, testPassword = "syndicate", "test-password"

// testNATS is the JetStream server of one test: the external server named by
// SYNDICATE_TEST_NATS_URL, or an embedded one with its store in t.TempDir(). Each gets its own
// stream name and subject prefix, so runs on a shared server do not collide.
type testNATS struct {
	t        testing.TB
	URL      string
	srv      *server.Server // nil when external
	storeDir string
	listen   string // after the first start: the same port again, so clients reconnect
	opts     Options
}

// newTestNATS uses the external server when one is configured, else an embedded one.
func newTestNATS(t testing.TB) *testNATS {
	t.Helper()
	if url := os.Getenv(externalNATSEnv); url != "" {
		return newNATS(t, url)
	}
	return newEmbeddedNATS(t)
}

// newEmbeddedNATS always starts an embedded server, for tests that must stop and restart it.
func newEmbeddedNATS(t testing.TB) *testNATS {
	t.Helper()
	n := newNATS(t, "")
	n.storeDir, n.listen = t.TempDir(), "127.0.0.1:-1"
	n.opts.User, n.opts.Password = testUser, testPassword
	n.start()
	t.Cleanup(n.stop)
	return n
}

func newNATS(t testing.TB, url string) *testNATS {
	id := strconv.FormatUint(rand.Uint64(), 36)
	return &testNATS{t: t, URL: url, opts: Options{
		URLs:          url,
		Stream:        "SYNDICATE_TEST_" + id,
		SubjectPrefix: "syndtest." + id,
	}}
}

// start (re)starts the embedded server on the same store directory and port. It uses the
// production start-up path, listening on loopback TCP so that clients can reconnect to it.
func (n *testNATS) start() {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := startEmbedded(ctx, Options{Name: "syndicate-test", StoreDir: n.storeDir, Listen: n.listen,
		User: testUser, Password: testPassword}, discardLog())
	if err != nil {
		n.t.Fatal(err)
	}
	n.srv = s
	n.listen = s.Addr().String()
	n.URL = "nats://" + n.listen
	n.opts.URLs = n.URL
}

// stop shuts the embedded server down and waits for it.
func (n *testNATS) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
		n.srv = nil
	}
}

// connect starts a publisher connection with the test's options (changed by edit, if given) and
// deletes the stream and closes the connection when the test ends.
func (n *testNATS) connect(edit ...func(*Options)) *Conn {
	n.t.Helper()
	opts := n.opts
	for _, e := range edit {
		e(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := Start(ctx, opts, testLog(n.t))
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		n.deleteStream(ctx, c.JetStream(), opts.Stream)
		c.Close(ctx)
	})
	return c
}

// deleteStream removes a stream a test created; a missing one is fine.
func (n *testNATS) deleteStream(ctx context.Context, js jetstream.JetStream, name string) {
	if err := js.DeleteStream(ctx, name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		n.t.Logf("delete stream %s: %v", name, err)
	}
}

// eventually polls cond until it holds, failing the test after the deadline.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond) // a poll interval, not a wait for an outcome
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testLog logs warnings and errors through t.Log until the test is over.
func testLog(t testing.TB) *slog.Logger {
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

// freeLoopbackAddr returns a loopback address nobody listens on right now.
func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

var _ = fmt.Sprint
