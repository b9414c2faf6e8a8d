package importdata_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/bench/importdata"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/schedule"
)

// backfillTimes is how long each step of a backfill took.
type backfillTimes struct {
	Import, Builds, Relay, SlowestBuild time.Duration
}

// backfill runs a whole backfill of n articles on a service with a SQLite store and an embedded
// NATS server: the import, then every build job run through the scheduler (so under the jobs'
// deadline), then the relay until the outbox is empty. It checks that no job failed, that the
// stream holds one published event per article and that nothing is left in the outbox.
func backfill(tb testing.TB, n int) backfillTimes {
	ctx := context.Background()
	cfg, err := config.Load("", []string{"SYNDICATE_DATA_DIR=" + tb.TempDir(), "SYNDICATE_NATS_LISTEN=",
		"SYNDICATE_DEMO=false", "SYNDICATE_ADMIN_TOKEN=bench"})
	if err != nil {
		tb.Fatal(err)
	}
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	defer a.Close(ctx)
	var t backfillTimes

	start := time.Now()
	spec := importdata.Spec{N: n, Channels: benchChannels}
	im := ingest.Importer{Store: a.Store, Tree: a.Tree, Limits: cfg.Limits.Article()}
	rep, err := im.Import(ctx, syndicate.NewDecoder(spec.Reader(), im.Limits).Records())
	if err != nil || rep.Created != n {
		tb.Fatalf("import: %+v, %v", rep, err)
	}
	t.Import = time.Since(start)

	start = time.Now()
	for _, slug := range append(a.Tree.Slugs(), syndicate.SiteFeed) {
		run, err := a.Scheduler.RunNow(ctx, app.BuildJobName(slug))
		if err != nil || run.Status != schedule.StatusOK {
			tb.Fatalf("build %s: %+v, %v", slug, run, err)
		}
		t.SlowestBuild = max(t.SlowestBuild, run.End.Sub(run.Start))
	}
	t.Builds = time.Since(start)

	start = time.Now()
	if err := a.Relay.Flush(ctx); err != nil {
		tb.Fatalf("relay: %v", err)
	}
	t.Relay = time.Since(start)

	if pending, _, err := a.Store.OutboxStats(ctx); err != nil || pending != 0 {
		tb.Errorf("%d events left in the outbox (%v)", pending, err)
	}
	stream, err := a.NATS.JetStream().Stream(ctx, cfg.NATS.Stream)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if info.State.Msgs != uint64(n) {
		tb.Errorf("%d events in the stream, want one published event per article: %d", info.State.Msgs, n)
	}
	return t
}

// TestBackfillKeepsUp: after an import, every build job runs within its deadline and the relay
// empties the outbox into the stream, one published event per article.
func TestBackfillKeepsUp(t *testing.T) {
	took := backfill(t, 3000)
	t.Logf("import %v, builds %v (slowest %v), relay %v", took.Import, took.Builds, took.SlowestBuild, took.Relay)
}

// BenchmarkBackfill is the whole backfill of 100,000 articles on SQLite with the embedded NATS
// server: import, every affected feed rebuilt, every published event acknowledged by the stream.
func BenchmarkBackfill(b *testing.B) {
	var total backfillTimes
	for b.Loop() {
		t := backfill(b, benchRecords)
		total.Import += t.Import
		total.Builds += t.Builds
		total.Relay += t.Relay
		total.SlowestBuild = max(total.SlowestBuild, t.SlowestBuild)
	}
	n := float64(b.N)
	b.ReportMetric(total.Import.Seconds()/n, "import-s")
	b.ReportMetric(total.Builds.Seconds()/n, "builds-s")
	b.ReportMetric(total.SlowestBuild.Seconds(), "slowest-build-s")
	b.ReportMetric(total.Relay.Seconds()/n, "relay-s")
	b.ReportMetric((total.Import+total.Builds+total.Relay).Seconds()/n, "backfill-s")
}
