package relay

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/publisher"
)

// connect starts a production publisher connection to url with a stream and subject prefix of
// its own, deleted when the test ends.
func connect(t testing.TB, url string) *publisher.Conn {
	t.Helper()
	stream, prefix := natstest.Names()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := publisher.Start(ctx, publisher.Options{URLs: url, Stream: stream, SubjectPrefix: prefix}, natstest.Log(t))
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
