package publisher

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/natstest"
)

// StartRetrying waits for an external server that is not up yet: it retries until the server
// listens, then connects and creates the stream.
func TestStartRetryingWaitsForTheServer(t *testing.T) {
	addr := freeLoopbackAddr(t)
	stream, prefix := natstest.Names()
	logs := &lockedBuffer{}
	type result struct {
		c   *Conn
		err error
	}
	got := make(chan result, 1)
	go func() {
		c, err := StartRetrying(context.Background(), Options{URLs: "nats://" + addr, Stream: stream, SubjectPrefix: prefix},
			slog.New(slog.NewTextHandler(logs, nil)))
		got <- result{c, err}
	}()
	testwait.For(t, "a failed attempt", func() bool { return strings.Contains(logs.String(), "nats not ready at start-up, retrying") })

	host, port, _ := net.SplitHostPort(addr)
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.NewServer(&server.Options{Host: host, Port: p, NoLog: true, NoSigs: true, JetStream: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })

	r := <-got // bounded: the server is up, and StartRetrying gives up after DefaultStartupTimeout
	if r.err != nil {
		t.Fatalf("StartRetrying: %v", r.err)
	}
	defer r.c.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.c.JetStream().Stream(ctx, stream); err != nil {
		t.Errorf("the stream after a retried start: %v", err)
	}
}

// StartRetrying gives up after opts.StartupTimeout, not only when its context ends.
func TestStartRetryingTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := StartRetrying(ctx, Options{URLs: "nats://127.0.0.1:1", StartupTimeout: 300 * time.Millisecond}, discardLog())
	if err == nil {
		c.Close(context.Background())
		t.Fatal("started")
	}
	if ctx.Err() != nil {
		t.Errorf("StartRetrying retried until its context ended (%v), past its StartupTimeout", err)
	}
}

// StartRetrying's errors say which start failed, without the URLs' credentials.
func TestStartRetryingErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
		is   error // nil: not checked
	}{
		{name: "unreachable external server", opts: Options{URLs: "nats://op:s3cret@127.0.0.1:1"},
			want: "cannot connect to NATS at nats://redacted@127.0.0.1:1: "},
		{name: "embedded server without credentials", opts: Options{Listen: freeLoopbackAddr(t), StoreDir: t.TempDir()},
			want: "cannot start the embedded NATS server: ", is: ErrEmbeddedNoCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The deadline ends the retries long before DefaultStartupTimeout.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			c, err := StartRetrying(ctx, tt.opts, discardLog())
			if err == nil {
				c.Close(context.Background())
				t.Fatal("started")
			}
			if !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q, want it to start with %q and hide the password", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
}
