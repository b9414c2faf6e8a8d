package metrics_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/metrics"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// The outbox gauges read a real store at scrape time, and say -1 once it cannot be read.
func TestOutboxCollectors(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	m.Register(metrics.OutboxCollectors(db, func() metrics.RelayCounts {
		return metrics.RelayCounts{Published: 7, Duplicates: 2, Failures: 3, Refused: 4, Conflicts: 5, DeadLettered: 6}
	})...)
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
