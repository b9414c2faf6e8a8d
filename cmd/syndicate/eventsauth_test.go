package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/publisher"
)

// TestEventsTailLogsIn: the embedded server's listener refuses a client without credentials,
// while `events tail`, pointed at the same data dir, logs in with the context the service wrote
// and prints the 零陵 story's event.
func TestEventsTailLogsIn(t *testing.T) {
	dir := t.TempDir()
	env := []string{"SYNDICATE_DATA_DIR=" + dir, "SYNDICATE_NATS_LISTEN=" + freeAddr(t), "SYNDICATE_ADMIN_TOKEN=t"}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	cfg, err := config.Load("", env) // the demo data: the 零陵 story
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	if _, err := a.Builder.Build(ctx, "lingling"); err != nil {
		t.Fatal(err)
	}
	if err := a.Relay.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	url := "nats://" + a.NATS.EmbeddedAddr()
	if nc, err := nats.Connect(url, nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("a client without credentials connected to the embedded server")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("connect without credentials: %v, want an authorization violation", err)
	}

	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"events", "tail"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("events tail: exit %d: %s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("events tail printed %d lines, want the 零陵 story's one event:\n%s", len(lines), out.String())
	}
	var ev struct {
		Type string
		Data struct{ Channel string }
	}
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatalf("event %q: %v", lines[0], err)
	}
	if ev.Type != syndicate.EventPublished || ev.Data.Channel != "lingling" {
		t.Errorf("event type %q channel %q, want %q in lingling:\n%s", ev.Type, ev.Data.Channel, syndicate.EventPublished, lines[0])
	}
}

// TestEventsTailWithoutContext: before the service has started, `events tail` says what is missing.
func TestEventsTailWithoutContext(t *testing.T) {
	t.Setenv("SYNDICATE_DATA_DIR", t.TempDir())
	t.Setenv("SYNDICATE_NATS_LISTEN", freeAddr(t))
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"events", "tail"}, nil, &out, &errOut); code == 0 {
		t.Fatal("events tail succeeded without a running service")
	}
	if !strings.Contains(errOut.String(), "nats-context.json") || !strings.Contains(errOut.String(), "syndicate serve") {
		t.Errorf("events tail error does not name the context file and the fix:\n%s", errOut.String())
	}
}

// TestEventsTailServiceDown: a context left by a service that has stopped names the likely cause.
func TestEventsTailServiceDown(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SYNDICATE_DATA_DIR", dir)
	t.Setenv("SYNDICATE_NATS_LISTEN", freeAddr(t))
	t.Setenv("SYNDICATE_NATS_STARTUP_TIMEOUT", "1s")
	if err := publisher.WriteCLIContext(dir, freeAddr(t), "syndicate", "pw", slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"events", "tail"}, nil, &out, &errOut); code == 0 {
		t.Fatal("events tail succeeded with no server listening")
	}
	if !strings.Contains(errOut.String(), "is `syndicate serve` running with this data dir?") {
		t.Errorf("events tail error does not say what is likely wrong:\n%s", errOut.String())
	}
}
