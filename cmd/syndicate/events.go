package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/publisher"
	"github.com/yongzhou-news/syndicate/tail"
)

const eventsUsage = `usage: syndicate events tail [--subject S]... [--since 2h|RFC3339] [--follow]
       syndicate events dead [--limit N]
       syndicate events resend SEQ... | --all`

func eventsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand("events", args, []string{"tail", "dead", "resend"}, func() { fmt.Fprintln(stderr, eventsUsage) }, stderr); err != nil {
		return err
	}
	switch args[0] {
	case "dead":
		return deadCmd(ctx, args[1:], stdout, stderr)
	case "resend":
		return resendCmd(ctx, args[1:], stdout, stderr)
	}
	var c common
	var since string
	var subjects subjectList
	var follow bool
	fs := newFlagSet("events tail", stderr, &c)
	fs.Var(&subjects, "subject", "subject filter, repeatable, e.g. syndicate.items.xianshiqu.> or syndicate.items.*.*.*.*.removed (default: all items)")
	fs.StringVar(&since, "since", "", "start at this age (2h, 30m) or time (RFC 3339); default: the start of the stream")
	fs.BoolVar(&follow, "follow", false, "keep printing new events until interrupted")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	start, err := parseSince(since, time.Now())
	if err != nil {
		return err
	}
	if len(subjects) == 0 {
		subjects = subjectList{cfg.NATS.SubjectPrefix + ".items.>"}
	}
	opts := app.PublisherOptions(cfg)
	embedded := opts.URLs == ""
	if embedded {
		// The embedded server runs inside `syndicate serve`; reach it on its loopback listener.
		if cfg.NATS.Listen == "" {
			return fmt.Errorf("events tail: nats.url is empty and the embedded server does not listen (nats.listen is empty)")
		}
		// The running service wrote where it actually listens, and the password, in the data dir.
		nc, err := publisher.ReadCLIContext(cfg.DataDir)
		if err != nil {
			return fmt.Errorf("events tail: %w (start `syndicate serve` with this data dir first)", err)
		}
		opts.URLs, opts.User, opts.Password = nc.URL, nc.User, nc.Password
	}
	if c.logLevel == "" {
		cfg.Log.Level = "warn" // a command whose output is the events: keep stderr quiet
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	conn, err := publisher.Start(ctx, opts, log.With(slog.String("component", "nats")))
	if err != nil {
		if embedded {
			return fmt.Errorf("events tail: %w (is `syndicate serve` running with this data dir?)", err)
		}
		return err
	}
	defer conn.Close(context.Background())
	return tail.Events(ctx, conn.JetStream(), cfg.NATS.Stream, subjects, start, follow, stdout)
}

// parseSince accepts a duration back from now or an RFC 3339 time; "" is the zero time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration like 2h or an RFC 3339 time", s)
}

// subjectList is a repeatable --subject flag.
type subjectList []string

func (l *subjectList) String() string { return strings.Join(*l, " ") }

func (l *subjectList) Set(s string) error {
	*l = append(*l, s)
	return nil
}
