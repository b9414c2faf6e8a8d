package publisher

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/natstest"
)

// The credentials of the tests' embedded servers; the service generates its own.
const testUser, testPassword = "syndicate", "test-password"

// connect starts a connection to url (natstest.URL) with a stream and subject prefix of the
// test's own, so runs on a shared server do not collide; the stream is deleted and the connection
// closed when the test ends.
func connect(t testing.TB, url string) *Conn {
	t.Helper()
	stream, prefix := natstest.Names()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := Start(ctx, Options{URLs: url, Stream: stream, SubjectPrefix: prefix}, natstest.Log(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	natstest.DeleteStream(t, c.JetStream(), stream) // runs first: cleanups run last in, first out
	return c
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

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
