package publisher

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// BenchmarkRelay measures relaying b.N pending rows into JetStream (embedded unless
// SYNDICATE_TEST_NATS_URL is set) with the in-memory outbox, so the figure is the relay's and
// the server's, not a database's.
func BenchmarkRelay(b *testing.B) {
	cases := []struct {
		name     string
		channels int
		opts     RelayOptions
	}{
		{"chained", 10, RelayOptions{}},
		{"chained", 1, RelayOptions{}},
		{"unchained/window=1", 10, RelayOptions{Unchained: true}},
		{"unchained/window=64", 1, RelayOptions{Unchained: true, ChannelWindow: 64}},
	}
	n := newTestNATS(b)
	runs := 0
	for _, bc := range cases {
		b.Run(fmt.Sprintf("channels=%d/%s", bc.channels, bc.name), func(b *testing.B) {
			// A fresh stream for every run: the testing package calls this function more than once.
			runs++
			c := n.connect(func(o *Options) {
				o.Stream += fmt.Sprintf("_B%d", runs)
				o.SubjectPrefix += fmt.Sprintf(".b%d", runs)
			})
			ob, gen := newMemOutbox(), newEventGen(c.Options())
			ob.add(gen.rows(b, bc.channels, b.N)...)
			opts := bc.opts
			opts.Stream = c.Options().Stream
			r := NewRelay(c.JetStream(), ob, opts, discardLog())
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
	n := newTestNATS(b)
	runs := 0
	for b.Loop() {
		b.StopTimer()
		runs++
		c := n.connect(func(o *Options) {
			o.Stream += fmt.Sprintf("_S%d_%d", channels, runs)
			o.SubjectPrefix += fmt.Sprintf(".s%d_%d", channels, runs)
		})
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
		r := NewRelay(c.JetStream(), db, RelayOptions{Stream: c.Options().Stream}, discardLog())
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
