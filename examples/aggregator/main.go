// Command aggregator is an example of a downstream aggregator: it reads Syndicate's item events
// through durable JetStream pull consumers, so it resumes where it stopped after a restart, and
// acknowledges each event after handling it. Copy it as a starting point.
//
//	go run ./examples/aggregator --url nats://127.0.0.1:4222 \
//		--subject 'syndicate.items.xianshiqu.>' --subject 'syndicate.items.*.*.*.*.removed'
//
// Subjects are syndicate.items.<channel path padded with "-" to 4 tokens>.<published|updated|removed>,
// so one filter selects a channel subtree, an event type, or both (README, "What an aggregator
// receives"). Several filters must not overlap: an event matching two of them would arrive twice.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options say where to read from.
type Options struct {
	URL      string
	Stream   string
	Durable  string
	Subjects []string // filters; none means every item event
	// Max stops after this many events (0: run until interrupted).
	Max int
}

// Event is the part of a Syndicate event this aggregator uses (see schema/item-event.schema.json).
// Fields it does not name are ignored, as the versioning rule asks of every consumer.
type Event struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Subject string    `json:"subject"` // the item id
	Time    time.Time `json:"time"`
	Data    struct {
		Channel  string `json:"channel"`
		ItemID   string `json:"item_id"`
		Title    string `json:"title"`
		URL      string `json:"url"`
		Revision int64  `json:"revision"`
		Reason   string `json:"reason"`
	} `json:"data"`
}

type subjectList []string

func (l *subjectList) String() string { return strings.Join(*l, " ") }
func (l *subjectList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

func main() {
	var o Options
	var subjects subjectList
	flag.StringVar(&o.URL, "url", nats.DefaultURL, "NATS server URL(s), comma-separated")
	flag.StringVar(&o.Stream, "stream", "SYNDICATE_ITEMS", "stream name")
	flag.StringVar(&o.Durable, "durable", "example-aggregator", "durable consumer name")
	flag.Var(&subjects, "subject", "subject filter, repeatable (default syndicate.items.>)")
	flag.IntVar(&o.Max, "max", 0, "stop after this many events (0: until interrupted)")
	flag.Parse()
	o.Subjects = subjects
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
	consumers, err := Consumers(ctx, js, o)
	if err != nil {
		return nil, err
	}
	var handled []Event
	for ctx.Err() == nil && (o.Max == 0 || len(handled) < o.Max) {
		for _, cons := range consumers {
			batch, err := cons.Fetch(100, jetstream.FetchMaxWait(time.Second/time.Duration(len(consumers))))
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
				fmt.Fprintf(out, "%s %s %s r%d %s\n", ev.Type, ev.Data.Channel, ev.Data.ItemID, ev.Data.Revision, ev.Data.Title)
				if err := msg.Ack(); err != nil {
					return handled, fmt.Errorf("ack %s: %w", ev.ID, err)
				}
				handled = append(handled, ev)
			}
			if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
				return handled, fmt.Errorf("fetch: %w", err)
			}
		}
	}
	return handled, ctx.Err()
}

// Consumers creates (or binds to) the durable consumers for o's filters. nats-server 2.10 and later
// take every filter on one consumer (FilterSubjects); 2.9 takes one filter per consumer, so there
// each filter gets its own durable, named after the filter so that a restart with the same
// filters binds to the same consumers. CreateOrUpdateConsumer is idempotent: the acknowledged
// position survives restarts.
func Consumers(ctx context.Context, js jetstream.JetStream, o Options) ([]jetstream.Consumer, error) {
	subjects := o.Subjects
	if len(subjects) == 0 {
		subjects = []string{"syndicate.items.>"}
	}
	cfg := jetstream.ConsumerConfig{
		Durable:    o.Durable,
		AckPolicy:  jetstream.AckExplicitPolicy,
		AckWait:    30 * time.Second,
		MaxDeliver: 10,
	}
	if len(subjects) == 1 || multiFilter(js.Conn()) {
		cfg.FilterSubjects = subjects
		if len(subjects) == 1 {
			cfg.FilterSubjects, cfg.FilterSubject = nil, subjects[0] // what 2.9 understands
		}
		cons, err := js.CreateOrUpdateConsumer(ctx, o.Stream, cfg)
		if err != nil {
			return nil, fmt.Errorf("consumer %s: %w", o.Durable, err)
		}
		return []jetstream.Consumer{cons}, nil
	}
	var out []jetstream.Consumer
	for _, s := range subjects {
		c := cfg
		h := fnv.New32a()
		h.Write([]byte(s))
		c.Durable, c.FilterSubject = fmt.Sprintf("%s-%08x", o.Durable, h.Sum32()), s
		cons, err := js.CreateOrUpdateConsumer(ctx, o.Stream, c)
		if err != nil {
			return nil, fmt.Errorf("consumer %s for %s: %w", c.Durable, s, err)
		}
		out = append(out, cons)
	}
	return out, nil
}

// multiFilter reports whether the server takes several filter subjects on one consumer (2.10+).
func multiFilter(nc *nats.Conn) bool {
	var major, minor int
	if _, err := fmt.Sscanf(nc.ConnectedServerVersion(), "%d.%d", &major, &minor); err != nil {
		return false
	}
	return major > 2 || major == 2 && minor >= 10
}
