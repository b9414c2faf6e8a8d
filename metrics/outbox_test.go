package metrics_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/metrics"
	"github.com/yongzhou-news/syndicate/relay"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// fixedRelay is a relay whose totals never change.
type fixedRelay relay.Stats

func (f fixedRelay) Stats() relay.Stats { return relay.Stats(f) }

// The outbox gauges read a real store at scrape time, and say -1 once it cannot be read.
func TestOutboxCollectors(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	m.Register(metrics.OutboxCollectors(db, fixedRelay{Published: 7, Duplicates: 2, Failures: 3, Refused: 4, Conflicts: 5, DeadLettered: 6})...)
	body := scrape(t, m)
	for _, want := range []string{
		"syndicate_relay_published_total 7", "syndicate_relay_duplicates_total 2", "syndicate_relay_failures_total 3",
		"syndicate_relay_refused_total 4", "syndicate_relay_conflicts_total 5", "syndicate_relay_dead_lettered_total 6",
		"syndicate_outbox_pending_rows 0", "syndicate_outbox_dead_rows 0", "syndicate_relay_lag_seconds 0",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	body = scrape(t, m)
	for _, want := range []string{"syndicate_outbox_pending_rows -1", "syndicate_outbox_dead_rows -1"} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("with the store closed, metrics lack %q", want)
		}
	}
}

// countingOutbox is a real store that counts the reads the outbox gauges make.
type countingOutbox struct {
	*sqlite.DB
	stats, dead int
}

func (c *countingOutbox) OutboxStats(ctx context.Context) (int64, time.Time, error) {
	c.stats++
	return c.DB.OutboxStats(ctx)
}

func (c *countingOutbox) DeadLetters(ctx context.Context, limit int) ([]syndicate.DeadLetter, int64, error) {
	c.dead++
	return c.DB.DeadLetters(ctx, limit)
}

// A scrape reads the outbox's stats once and its dead count once, for the three gauges, and the
// gauges show what the store holds.
func TestOutboxGaugesOneReadPerScrape(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	created := time.Now().Add(-time.Hour)
	var rows []syndicate.OutboxRow
	for _, id := range []string{"e1", "e2", "e3"} {
		rows = append(rows, syndicate.OutboxRow{EventID: id, Subject: "syndicate.items.lingling", Channel: "lingling",
			Payload: []byte(`{}`), CreatedAt: created})
	}
	if err := db.CommitBuild(ctx, store.Build{Channel: "lingling", Events: rows}); err != nil {
		t.Fatal(err)
	}
	pending, _ := db.PendingEvents(ctx, 10)
	if err := db.MarkDead(ctx, pending[0].Seq, "too large", time.Now()); err != nil {
		t.Fatal(err)
	}
	c := &countingOutbox{DB: db}
	m := metrics.New()
	m.Register(metrics.OutboxCollectors(c, fixedRelay{})...)
	body := scrape(t, m)
	if c.stats != 1 || c.dead != 1 {
		t.Errorf("a scrape read the stats %d times and the dead letters %d times, want once each", c.stats, c.dead)
	}
	for _, want := range []string{"syndicate_outbox_pending_rows 2\n", "syndicate_outbox_dead_rows 1\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	lag := metricValue(t, body, "syndicate_relay_lag_seconds")
	if lag < 3600 || lag > 3600+60 {
		t.Errorf("lag %v s, want about an hour", lag)
	}
}

// metricValue returns the value of an unlabelled metric in a scrape.
func metricValue(t *testing.T, body, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("no %s in:\n%s", name, body)
	return 0
}
