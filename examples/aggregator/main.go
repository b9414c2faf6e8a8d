// Command aggregator is an example of a downstream aggregator: it reads Syndicate's item events
// through a durable JetStream pull consumer, so it resumes where it stopped after a restart, and
// acknowledges each event after handling it. Copy it as a starting point.
//
//	go run ./examples/aggregator --url nats://127.0.0.1:4222 --subject 'syndicate.items.xianshiqu.>'
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options say where to read from.
type Options struct {
	URL     string
	Stream  string
	Durable string
	Subject string
	// Max stops after this many events (0: run until interrupted).
	Max int
}

// Event is the part of a Syndicate event this aggregator uses (see schema/item-event.schema.json).
type Event struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Channel string `json:"channel"`
		ItemID  string `json:"item_id"`
		Title   string `json:"title"`
		URL     string `json:"url"`
	} `json:"data"`
}

func main() {
	var o Options
	flag.StringVar(&o.URL, "url", nats.DefaultURL, "NATS server URL(s), comma-separated")
	flag.StringVar(&o.Stream, "stream", "SYNDICATE_ITEMS", "stream name")
	flag.StringVar(&o.Durable, "durable", "example-aggregator", "durable consumer name")
	flag.StringVar(&o.Subject, "subject", "syndicate.items.>", "subject filter")
	flag.IntVar(&o.Max, "max", 0, "stop after this many events (0: until interrupted)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	nc, err := nats.Connect(o.URL, nats.Name("example-aggregator"), nats.MaxReconnects(-1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "aggregator:", err)
		os.Exit(1)
	}
	defer nc.Drain()
	if _, err := Run(ctx, nc, o, os.Stdout); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "aggregator:", err)
		os.Exit(1)
	}
}

// Run consumes events until ctx ends or Max events were handled, printing one line per event,
// and returns the events it handled.
func Run(ctx context.Context, nc *nats.Conn, o Options, out io.Writer) ([]Event, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	// CreateOrUpdateConsumer is idempotent: every start of the aggregator binds to the same
	// durable consumer, whose acknowledged position survives restarts.
	cons, err := js.CreateOrUpdateConsumer(ctx, o.Stream, jetstream.ConsumerConfig{
		Durable:       o.Durable,
		FilterSubject: o.Subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		MaxDeliver:    10,
	})
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w", o.Durable, err)
	}
	var handled []Event
	for ctx.Err() == nil && (o.Max == 0 || len(handled) < o.Max) {
		batch, err := cons.Fetch(100, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return handled, fmt.Errorf("fetch: %w", err)
		}
		for msg := range batch.Messages() {
			var ev Event
			if err := json.Unmarshal(msg.Data(), &ev); err != nil {
				// A message we cannot read will not get better: terminate it instead of looping.
				msg.Term()
				continue
			}
			fmt.Fprintf(out, "%s %s %s %s\n", ev.Type, ev.Data.Channel, ev.Data.ItemID, ev.Data.Title)
			if err := msg.Ack(); err != nil {
				return handled, fmt.Errorf("ack %s: %w", ev.ID, err)
			}
			handled = append(handled, ev)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return handled, fmt.Errorf("fetch: %w", err)
		}
	}
	return handled, ctx.Err()
}
