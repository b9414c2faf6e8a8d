package hub

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
)

// Two replicas' hubs over one PostgreSQL store: each change reaches each subscriber once,
// whichever replica claimed it, and both replicas' workers share the work.
func TestOneDeliveryPerChangeAcrossReplicas(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	open := func() *postgres.DB {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	stA, stB := open(), open()
	tree := testTree(t)
	a, srv := startHub(t, fast(stA, tree))
	b, _ := startHub(t, fast(stB, tree))

	topic := site.FeedURL("local", "rss")
	const n = 40
	subs := make([]*subscriber, n)
	for i := range subs {
		subs[i] = newSubscriber(t)
		cb := subs[i].URL
		if i%2 == 1 { // two hosts, two lanes
			cb = strings.Replace(cb, "127.0.0.1", "localhost", 1)
		}
		subscribe(t, srv.URL, cb, topic)
	}
	testwait.For(t, "all verified", func() bool { return count(a, "subscribe", "verified") == n })

	for round := 1; round <= 3; round++ {
		doc := commitDoc(t, stA, "local", "rss", fmt.Sprintf("<rss><channel><title>round %d</title></channel></rss>", round))
		a.Publish(doc) // the replica that built publishes; the other one only delivers
		a.Flush()
		testwait.For(t, "every subscriber served", func() bool {
			for _, s := range subs {
				if len(s.deliveries()) < round {
					return false
				}
			}
			return true
		})
		testwait.For(t, "queue drained", func() bool {
			d, _, err := stB.QueueStats(context.Background(), KindDistribute)
			return err == nil && d == 0
		})
		for i, s := range subs {
			got := s.deliveries()
			if len(got) != round {
				t.Fatalf("round %d: subscriber %d got %d deliveries", round, i, len(got))
			}
			if string(got[round-1].body) != string(doc.Body) {
				t.Fatalf("round %d: subscriber %d got %q", round, i, got[round-1].body)
			}
		}
	}
	// Which replica made how many is up to their claims; the sum is what counts.
	da, db := delivered(t, a), delivered(t, b)
	if da+db != 3*n {
		t.Errorf("replicas delivered %v + %v, want %d in all", da, db, 3*n)
	}
	t.Logf("deliveries by replica: %v, %v", da, db)
}

// delivered sums the hub's successful deliveries as /metrics shows them.
func delivered(t *testing.T, h *Hub) float64 {
	return sumCounter(t, h, "syndicate_websub_hub_notifications_total", "outcome", "delivered")
}

// sumCounter sums the counter name of the hub's collectors over the series whose label is value.
func sumCounter(t *testing.T, h *Hub, name, label, value string) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(h.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}
