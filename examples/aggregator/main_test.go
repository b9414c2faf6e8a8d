package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/ingest"
)

// The example receives every event the service publishes, and a restart of the aggregator resumes
// after the last acknowledged one.
func TestAggregatorReceivesEveryEvent(t *testing.T) {
	cfg, err := config.Load("", []string{"SYNDICATE_DATA_DIR=" + t.TempDir(), "SYNDICATE_NATS_LISTEN=", "SYNDICATE_ADMIN_TOKEN=t"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())

	raw, err := os.ReadFile("../../demo/lingling-article.json")
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := syndicate.DecodeArticles(bytes.NewReader(raw))
	if _, err := ingest.Import(ctx, a.Store, a.Tree, recs); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"lingling", "zhongyao-xinwen"} {
		if _, err := a.Builder.Build(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Relay.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	opts := Options{Stream: cfg.NATS.Stream, Durable: "test-agg", Subjects: []string{"syndicate.items.>"}, Max: 2}
	var out bytes.Buffer
	evs, err := Run(ctx, a.NATS.NATS(), opts, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || !strings.Contains(out.String(), syndicate.EventPublished+" lingling tag:") {
		t.Fatalf("received %d events:\n%s", len(evs), out.String())
	}

	// Delete the story: a restarted aggregator sees only the two new .removed events.
	if err := a.Store.DeleteArticle(ctx, recs[0].Article.ID); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"lingling", "zhongyao-xinwen"} {
		if _, err := a.Builder.Build(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Relay.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	evs, err = Run(ctx, a.NATS.NATS(), opts, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Type != syndicate.EventRemoved || ev.Data.ItemID != a.Site.ItemID(recs[0].Article.ID) {
			t.Errorf("after restart got %s %s, want only removals of the story", ev.Type, ev.Data.ItemID)
		}
	}
}
