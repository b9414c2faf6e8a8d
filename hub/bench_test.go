package hub

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// BenchmarkDistribution1000 measures, per feed change, the time from Publish to each of 1,000
// subscribers receiving the new document (target: p99 ≤ 2 s). Subscribers are spread over 16
// loopback hosts (127.0.0.1-16), so deliveries use several lanes as distinct hosts would.
func BenchmarkDistribution1000(b *testing.B) {
	const subscribers, hosts = 1000, 16
	st := openSQLite(b)
	opt := fast(st, testTree(b))
	opt.Delivery.Poll = time.Second // woken by Enqueue; polling only finds retries
	h := New(opt)
	h.Start()
	defer h.Close(context.Background())

	var mu sync.Mutex
	var round string
	var start time.Time
	var lat []time.Duration
	done := make(chan struct{}, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		if strings.Contains(string(body), round) {
			lat = append(lat, time.Since(start))
			if len(lat) == subscribers {
				done <- struct{}{}
			}
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	var bases []string
	for i := 1; i <= hosts; i++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i))
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: handler}
		go srv.Serve(ln)
		defer srv.Close()
		bases = append(bases, "http://"+ln.Addr().String())
	}
	topic := site.FeedURL("local", "rss")
	now := time.Now()
	for i := range subscribers {
		base := bases[i%hosts]
		host, _, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
		if _, err := st.SaveSubscription(context.Background(), store.Subscription{Callback: fmt.Sprintf("%s/s/%d", base, i),
			Topic: topic, Host: host, Secret: "bench-secret", LeaseSeconds: 3600, ExpiresAt: now.Add(time.Hour), RenewedAt: now}); err != nil {
			b.Fatal(err)
		}
	}
	var all []time.Duration
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		marker := fmt.Sprintf("round-%d-", n)
		doc := commitDoc(b, st, "local", "rss", "<rss><channel><title>"+marker+strings.Repeat("x", 20000)+"</title></channel></rss>")
		mu.Lock()
		round, start, lat = marker, time.Now(), lat[:0]
		mu.Unlock()
		h.Publish(doc)
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			b.Fatalf("round %d: %d of %d delivered in 60 s", n, len(lat), subscribers)
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	}
	b.StopTimer()
	slices.Sort(all)
	p := func(q float64) float64 { return all[int(q*float64(len(all)-1))].Seconds() * 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	if p(0.99) > 2000 {
		b.Errorf("p99 %.0f ms from change to subscriber, target 2000 ms", p(0.99))
	}
}
