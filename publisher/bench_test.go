package publisher

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkRelay measures relaying b.N pending rows into JetStream (embedded unless
// SYNDICATE_TEST_NATS_URL is set) with the in-memory outbox, so the figure is the relay's and
// the server's, not a database's.
func BenchmarkRelay(b *testing.B) {
	cases := []struct {
		channels, window int
	}{
		{10, 1},
		{10, 16},
		{1, 1},
		{1, 64},
	}
	n := newTestNATS(b)
	runs := 0
	for _, bc := range cases {
		b.Run(fmt.Sprintf("channels=%d/window=%d", bc.channels, bc.window), func(b *testing.B) {
			// A fresh stream for every run: the testing package calls this function more than once.
			runs++
			c := n.connect(func(o *Options) {
				o.Stream += fmt.Sprintf("_B%d", runs)
				o.SubjectPrefix += fmt.Sprintf(".b%d", runs)
			})
			ob, gen := newMemOutbox(), newEventGen(c.Options())
			ob.add(gen.rows(b, bc.channels, b.N)...)
			r := NewRelay(c.JetStream(), ob, RelayOptions{Stream: c.Options().Stream, ChannelWindow: bc.window}, discardLog())
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
