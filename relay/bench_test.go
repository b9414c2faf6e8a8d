package relay

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// BenchmarkRelay measures relaying b.N pending rows into JetStream (embedded unless
// SYNDICATE_TEST_NATS_URL is set) with the in-memory outbox, so the figure is the relay's and
// the server's, not a database's.
func BenchmarkRelay(b *testing.B) {
	url := natstest.URL(b)
	for _, channels := range []int{10, 1} {
		b.Run(fmt.Sprintf("channels=%d", channels), func(b *testing.B) {
			// A fresh stream for every run: the testing package calls this function more than once.
			c := connect(b, url)
			ob, gen := newMemOutbox(), newEventGen(c.Options())
			ob.add(gen.rows(b, channels, b.N)...)
			r := New(c.JetStream(), ob, Options{Stream: c.Options().Stream}, discardLog())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()

			b.ResetTimer()
			start := time.Now()
			if err := r.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if got := r.Stats().Published; got != uint64(b.N) {
				b.Fatalf("published %d of %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		})
	}
}

// BenchmarkRelaySQLite relays 100,000 pending rows of a real SQLite outbox into JetStream with the
// default options: the figure an operator gets, database included, over 10 channels and the 31 of
// the portal's own tree. Publishes are chained (chain.go), so a channel's rows are pipelined and
// the rate hardly depends on the number of channels. bench/run.sh prints it next to
// `nats bench js pub async --dedup` on the same machine.
func BenchmarkRelaySQLite(b *testing.B) {
	for _, channels := range []int{10, 31} {
		b.Run(fmt.Sprintf("channels=%d", channels), func(b *testing.B) { benchRelaySQLite(b, channels) })
	}
}

func benchRelaySQLite(b *testing.B, channels int) {
	const rows = 100_000
	url := natstest.URL(b)
	for b.Loop() {
		b.StopTimer()
		c := connect(b, url)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "outbox.db"))
		if err != nil {
			b.Fatal(err)
		}
		gen := newEventGen(c.Options())
		all := gen.rows(b, channels, rows)
		for start := 0; start < len(all); start += 5000 {
			batch := all[start:min(start+5000, len(all))]
			if err := db.CommitBuild(ctx, store.Build{Channel: batch[0].Channel, Events: batch}); err != nil {
				b.Fatal(err)
			}
		}
		r := New(c.JetStream(), db, Options{Stream: c.Options().Stream}, discardLog())
		b.StartTimer()
		start := time.Now()
		if err := r.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if got := r.Stats().Published; got != rows {
			b.Fatalf("published %d of %d", got, rows)
		}
		b.ReportMetric(rows/elapsed.Seconds(), "events/s")
		db.Close()
		cancel()
		b.StartTimer()
	}
}
