package websub_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/websub"
)

// engine opens a queue on a store that outlives reopening: open gives the queue of a new
// connection (a restarted process) to the same database.
type engine struct {
	name string
	open func(t *testing.T) (open func() store.Queue)
}

var engines = []engine{
	{"sqlite", func(t *testing.T) func() store.Queue {
		path := filepath.Join(t.TempDir(), "syndicate.db")
		return func() store.Queue {
			s, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}},
	{"postgres", func(t *testing.T) func() store.Queue {
		dsn := postgrestest.Schema(t, postgrestest.DSN(t))
		return func() store.Queue {
			s, err := postgres.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	}},
}

func forEngines(t *testing.T, fn func(t *testing.T, open func() store.Queue)) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) { fn(t, e.open(t)) })
	}
}

// meter tracks requests in progress and their most at once.
type meter struct {
	mu       sync.Mutex
	cur, max int
}

func (m *meter) add(d int) {
	m.mu.Lock()
	m.cur += d
	m.max = max(m.max, m.cur)
	m.mu.Unlock()
}

func (m *meter) read() (cur, most int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cur, m.max
}

// hub is a WebSub hub that answers as its mode says and records what it accepted.
type hub struct {
	mu       sync.Mutex
	mode     string         // "ok", "500" or "hang" (never answers: the notifier times out)
	hold     chan struct{}  // when set, accepted requests wait for it to close
	accepted map[string]int // topic → publish pings answered 204
	requests int
	inFlight meter  // this hub's requests in progress
	all      *meter // when set, requests in progress at every hub sharing it
	srv      *httptest.Server
}

func newHub(t *testing.T, mode string) *hub {
	h := &hub{mode: mode, accepted: map[string]int{}}
	h.srv = httptest.NewServer(h)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("hub.mode") != "publish" || r.FormValue("hub.url") == "" {
		http.Error(w, "not a publish ping", http.StatusBadRequest)
		return
	}
	h.inFlight.add(1)
	defer h.inFlight.add(-1)
	if h.all != nil {
		h.all.add(1)
		defer h.all.add(-1)
	}
	h.mu.Lock()
	h.requests++
	mode, hold := h.mode, h.hold
	h.mu.Unlock()
	switch mode {
	case "500":
		http.Error(w, "hub down", http.StatusInternalServerError)
		return
	case "hang":
		<-r.Context().Done()
		return
	}
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	h.mu.Lock()
	h.accepted[r.FormValue("hub.url")]++
	h.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (h *hub) set(mode string) {
	h.mu.Lock()
	h.mode = mode
	h.mu.Unlock()
}

func (h *hub) requestCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

// options are quick to retry, so that tests run in milliseconds. The timeout is as long as a
// test's wait: a hub that accepts a ping the notifier has stopped waiting for gets it again, so a
// short one would turn a slow machine into duplicate pings. Tests of hubs that never answer set
// their own.
func options(hubs ...*hub) websub.Options {
	o := websub.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxAttempts: 1000,
		BackoffBase: 2 * time.Millisecond, BackoffMax: 10 * time.Millisecond, Timeout: testwait.Timeout,
		Poll: 5 * time.Millisecond}
	for _, h := range hubs {
		o.Hubs = append(o.Hubs, h.srv.URL)
	}
	return o
}

func start(t *testing.T, q store.Queue, o websub.Options) *websub.Notifier {
	n := websub.New(q, o)
	n.Start()
	t.Cleanup(func() { n.Close(context.Background()) })
	return n
}

func depth(t *testing.T, n *websub.Notifier) int64 {
	t.Helper()
	d, err := n.Depth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// idle waits until n saved every change and sent or dropped every row.
func idle(t *testing.T, n *websub.Notifier) {
	t.Helper()
	if err := n.Flush(); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the queue is empty", func() bool { return depth(t, n) == 0 })
}

func topicURLs(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("http://localhost:8080/feeds/channel-%03d.atom", i))
	}
	return out
}

// metric sums the samples of the named series whose labels include want.
func metric(t *testing.T, n *websub.Notifier, name string, want map[string]string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(n.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range want {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == k && lp.GetValue() == v {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			case m.Histogram != nil:
				sum += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func wantOnce(t *testing.T, h *hub, topics []string) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, topic := range topics {
		if h.accepted[topic] != 1 {
			t.Errorf("hub %s accepted %d pings for %s, want 1", h.srv.URL, h.accepted[topic], topic)
		}
	}
	if len(h.accepted) != len(topics) {
		t.Errorf("hub %s accepted %d topics, want %d", h.srv.URL, len(h.accepted), len(topics))
	}
}

// wantAtLeastOnce checks that h accepted every topic, and at most surplus pings beyond one each.
func wantAtLeastOnce(t *testing.T, h *hub, topics []string, surplus int) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	extra := 0
	for _, topic := range topics {
		if h.accepted[topic] == 0 {
			t.Errorf("hub %s never accepted a ping for %s", h.srv.URL, topic)
		}
		extra += max(h.accepted[topic]-1, 0)
	}
	if extra > surplus {
		t.Errorf("hub %s accepted %d pings beyond one per topic, but only %d failed", h.srv.URL, extra, surplus)
	}
	if len(h.accepted) != len(topics) {
		t.Errorf("hub %s accepted %d topics, want %d", h.srv.URL, len(h.accepted), len(topics))
	}
}

// Hubs that fail (500s, then no answer at all) and then recover hear about every changed feed
// once, and Publish never waits for them.
func TestFailingHubsRecover(t *testing.T) {
	forEngines(t, func(t *testing.T, open func() store.Queue) {
		a, b := newHub(t, "500"), newHub(t, "500")
		o := options(a, b)
		o.Timeout = 200 * time.Millisecond // hanging hubs time out in the test's time
		n := start(t, open(), o)
		topics := topicURLs(20)
		n.Publish(topics...)
		retried := func() float64 {
			return metric(t, n, "syndicate_websub_notifications_total", map[string]string{"outcome": "retried"})
		}
		testwait.For(t, "every ping failed with a 500 twice", func() bool { return a.requestCount() >= 40 && b.requestCount() >= 40 })
		a.set("hang")
		b.set("hang")
		failed := retried()
		testwait.For(t, "pings timed out", func() bool { return retried() >= failed+8 })
		a.set("ok")
		b.set("ok")
		failed = retried()
		idle(t, n)
		// A hub that answers after the short timeout has accepted a ping the notifier sends
		// again: at least once then, and exactly once when no ping failed after the recovery.
		if again := retried() - failed; again == 0 {
			wantOnce(t, a, topics)
			wantOnce(t, b, topics)
		} else {
			t.Logf("%v pings failed after the hubs recovered (a slow machine): checking at-least-once", again)
			wantAtLeastOnce(t, a, topics, int(again))
			wantAtLeastOnce(t, b, topics, int(again))
		}
		if got := metric(t, n, "syndicate_websub_notifications_total", map[string]string{"outcome": "delivered"}); got != 40 {
			t.Errorf("delivered counter %v, want 40", got)
		}
		if got := metric(t, n, "syndicate_websub_dropped_total", nil); got != 0 {
			t.Errorf("dropped counter %v, want 0", got)
		}
		if got := metric(t, n, "syndicate_websub_attempt_duration_seconds", map[string]string{"hub": a.srv.URL}); got < 60 {
			t.Errorf("latency histogram holds %v attempts to hub A, want at least 60", got)
		}
	})
}

// No hub sees more than PerHub pings at once, and all hubs together no more than InFlight.
func TestInFlightBound(t *testing.T) {
	forEngines(t, func(t *testing.T, open func() store.Queue) {
		a, b := newHub(t, "ok"), newHub(t, "ok")
		hold, all := make(chan struct{}), &meter{}
		a.hold, b.hold, a.all, b.all = hold, hold, all, all
		o := options(a, b)
		o.PerHub, o.InFlight = 3, 4
		n := start(t, open(), o)
		topics := topicURLs(30)
		n.Publish(topics...)
		testwait.For(t, "four pings are in flight", func() bool { cur, _ := all.read(); return cur == 4 })
		close(hold)
		idle(t, n)
		wantOnce(t, a, topics)
		wantOnce(t, b, topics)
		for _, h := range []*hub{a, b} {
			if _, most := h.inFlight.read(); most > 3 {
				t.Errorf("hub saw %d pings at once, bound 3", most)
			}
		}
		if _, most := all.read(); most > 4 {
			t.Errorf("hubs saw %d pings at once in all, bound 4", most)
		}
	})
}

// Publish never waits for a hub: it returns while the hub holds the pings of the feeds it
// published before, and again for feeds published while those pings are in flight.
func TestPublishDoesNotWaitForHubs(t *testing.T) {
	forEngines(t, func(t *testing.T, open func() store.Queue) {
		h := newHub(t, "ok")
		hold := make(chan struct{})
		h.hold = hold
		defer close(hold)
		n := start(t, open(), options(h))
		publish := func(topics []string) {
			t.Helper()
			done := make(chan struct{})
			go func() { n.Publish(topics...); close(done) }()
			testwait.For(t, "Publish to return", func() bool {
				select {
				case <-done:
					return true
				default:
					return false
				}
			})
		}
		publish(topicURLs(5))
		testwait.For(t, "a ping held by the hub", func() bool { cur, _ := h.inFlight.read(); return cur >= 1 })
		publish(topicURLs(20))
		if cur, _ := h.inFlight.read(); cur < 1 {
			t.Fatalf("the hub released its pings before the second Publish returned: the test proved nothing")
		}
	})
}

// A feed changed several times before its ping went out is pinged once; one that changes while
// its ping is in flight is pinged once more, since the hub may have fetched it before the change.
func TestCoalescing(t *testing.T) {
	forEngines(t, func(t *testing.T, open func() store.Queue) {
		h := newHub(t, "500")
		n := start(t, open(), options(h))
		topic := topicURLs(1)
		for range 5 {
			n.Publish(topic...)
			n.Flush()
			testwait.For(t, "the hub refused a ping", func() bool { return h.requestCount() > 0 })
		}
		if d := depth(t, n); d != 1 {
			t.Fatalf("queue holds %d rows for one changed feed, want 1", d)
		}
		hold := make(chan struct{})
		h.mu.Lock()
		h.mode, h.hold = "ok", hold
		h.mu.Unlock()
		testwait.For(t, "the ping is in flight", func() bool { cur, _ := h.inFlight.read(); return cur == 1 })
		n.Publish(topic...) // changed again while the hub holds the ping
		n.Flush()
		close(hold)
		idle(t, n)
		h.mu.Lock()
		defer h.mu.Unlock()
		if got := h.accepted[topic[0]]; got != 2 {
			t.Errorf("hub accepted %d pings, want 2: one for five changes, one for the change in flight", got)
		}
	})
}

// A notification that keeps failing is dropped after MaxAttempts attempts, or once older than
// MaxAge: counted, and its row gone.
func TestGiveUp(t *testing.T) {
	tests := []struct {
		name     string
		attempts int
		age      time.Duration
		requests int // the hub sees this many before the notifier gives up
	}{
		{"attempts", 3, 0, 3},
		{"age", 1000, time.Microsecond, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			forEngines(t, func(t *testing.T, open func() store.Queue) {
				h := newHub(t, "500")
				o := options(h)
				o.MaxAttempts, o.MaxAge = tt.attempts, tt.age
				n := start(t, open(), o)
				n.Publish(topicURLs(1)...)
				testwait.For(t, "the notification was dropped", func() bool {
					return metric(t, n, "syndicate_websub_dropped_total", map[string]string{"reason": tt.name}) == 1
				})
				idle(t, n)
				if got := h.requestCount(); got != tt.requests {
					t.Errorf("hub saw %d attempts, want %d", got, tt.requests)
				}
				if got := metric(t, n, "syndicate_websub_notifications_total", map[string]string{"outcome": "dropped"}); got != 1 {
					t.Errorf("dropped outcomes %v, want 1", got)
				}
			})
		})
	}
}

// Notifications pending when the notifier closes (failing ones, and changes published just
// before Close) are sent by the next notifier on the same database, once.
func TestSurvivesRestart(t *testing.T) {
	forEngines(t, func(t *testing.T, open func() store.Queue) {
		h := newHub(t, "500")
		topics := topicURLs(15)
		first := websub.New(open(), options(h))
		first.Start()
		first.Publish(topics[:10]...)
		testwait.For(t, "every ping failed once", func() bool { return h.requestCount() >= 10 })
		first.Publish(topics[10:]...)
		if err := first.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := depth(t, first); d != 15 {
			t.Fatalf("%d rows pending after Close, want 15", d)
		}
		h.set("ok")
		second := start(t, open(), options(h))
		idle(t, second)
		wantOnce(t, h, topics)
	})
}

// Two replicas on one PostgreSQL database share the queue: both send at once, and each
// notification reaches the hub once.
func TestReplicasShareQueue(t *testing.T) {
	open := engines[1].open(t) // postgres; skips without SYNDICATE_TEST_PG_DSN
	h := newHub(t, "ok")
	hold := make(chan struct{})
	h.hold = hold
	o := options(h)
	o.PerHub = 2
	one, two := start(t, open(), o), start(t, open(), o)
	topics := topicURLs(40)
	one.Publish(topics...)
	// One replica alone holds at most two pings in flight: four means both claimed rows.
	testwait.For(t, "both replicas send", func() bool { cur, _ := h.inFlight.read(); return cur == 4 })
	close(hold)
	idle(t, one)
	wantOnce(t, h, topics)
	delivered := func(n *websub.Notifier) float64 {
		return metric(t, n, "syndicate_websub_notifications_total", map[string]string{"outcome": "delivered"})
	}
	if a, b := delivered(one), delivered(two); a+b != 40 || a == 0 || b == 0 {
		t.Errorf("replicas delivered %v and %v, want 40 between them, some each", a, b)
	}
}

// Notifications queued for a hub that the configuration no longer lists are dropped at Start,
// counted, and leave the queue; the remaining hub still gets its own.
func TestRemovedHubForgotten(t *testing.T) {
	forEngines(t, func(t *testing.T, open func() store.Queue) {
		kept, removed := newHub(t, "500"), newHub(t, "500")
		topics := topicURLs(5)
		first := websub.New(open(), options(kept, removed))
		first.Publish(topics...)
		if err := first.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := depth(t, first); d != 10 {
			t.Fatalf("%d rows queued, want 10", d)
		}
		kept.set("ok")
		second := start(t, open(), options(kept))
		if got := metric(t, second, "syndicate_websub_dropped_total", map[string]string{"reason": "unconfigured"}); got != 5 {
			t.Errorf("dropped for an unconfigured hub: %v, want 5", got)
		}
		idle(t, second)
		wantOnce(t, kept, topics)
		if got := removed.requestCount(); got != 0 {
			t.Errorf("the removed hub got %d pings", got)
		}
	})
}

// A change the notifier cannot keep is dropped and counted: too many changes wait for the
// writer, or the store still refuses them when the notifier closes. Publish neither blocks nor
// fails.
func TestEnqueueFailuresAreCounted(t *testing.T) {
	t.Run("store", func(t *testing.T) {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "syndicate.db"))
		if err != nil {
			t.Fatal(err)
		}
		h := newHub(t, "ok")
		n := start(t, s, options(h))
		s.Close()                  // every write fails from now on
		n.Publish(topicURLs(3)...) // returns: a failed write is the writer's, not Publish's
		if err := n.Flush(); err == nil {
			t.Fatal("Flush on a closed store returned no error")
		}
		if got := metric(t, n, "syndicate_websub_dropped_total", map[string]string{"reason": "store"}); got != 0 {
			t.Errorf("dropped while the writer can still try again: %v, want 0", got)
		}
		n.Close(context.Background())
		if got := metric(t, n, "syndicate_websub_dropped_total", map[string]string{"reason": "store"}); got != 3 {
			t.Errorf("dropped when closing on a store that refuses them: %v, want 3", got)
		}
	})
	t.Run("overflow", func(t *testing.T) {
		h := newHub(t, "ok")
		o := options(h)
		o.MaxPending = 3
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "syndicate.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		n := websub.New(s, o) // not started: nothing saves the changes yet
		topics := topicURLs(5)
		n.Publish(topics...)
		n.Publish(topics[:3]...) // already waiting: coalesced, not dropped
		if got := metric(t, n, "syndicate_websub_dropped_total", map[string]string{"reason": "overflow"}); got != 2 {
			t.Errorf("dropped for overflow: %v, want 2", got)
		}
		n.Start()
		idle(t, n)
		wantOnce(t, h, topics[:3])
		n.Close(context.Background())
	})
}

// The database going away for a while loses no notification: the writer keeps what the store
// refused and saves it once the store is back, and every hub gets each change once. The link to
// a real PostgreSQL is cut, as a network failure or a database restart would.
func TestStoreOutageLosesNoNotification(t *testing.T) {
	s, link := postgrestest.OpenProxied(t)
	h := newHub(t, "ok")
	n := start(t, s, options(h))
	topics := topicURLs(5)

	link.Cut()
	n.Publish(topics...)
	if err := n.Flush(); err == nil {
		t.Fatal("Flush with the database link cut returned no error")
	}
	link.Restore()

	testwait.For(t, "every hub pinged for every topic", func() bool { return h.requestCount() >= len(topics) })
	idle(t, n)
	wantOnce(t, h, topics)
	if got := metric(t, n, "syndicate_websub_dropped_total", nil); got != 0 {
		t.Errorf("%v notifications dropped over the outage, want 0", got)
	}
}

// BenchmarkPublishFullRebuild measures what a rebuild of 1,000 channels costs the builds (3,000
// Publish calls) and the writer (saving 3,000 rows) on SQLite.
func BenchmarkPublishFullRebuild(b *testing.B) {
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "syndicate.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := websub.New(s, websub.Options{Hubs: []string{"http://127.0.0.1:1/hub"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	topics := topicURLs(3000)
	b.ResetTimer()
	for b.Loop() {
		for _, t := range topics {
			n.Publish(t)
		}
		n.Flush()
	}
}

// A store outage is logged once per worker when it starts and once when it ends, not once per
// poll: a database down for a minute would otherwise write a line per worker every second.
func TestStoreOutageLoggedOnce(t *testing.T) {
	s, link := postgrestest.OpenProxied(t)
	logs := &lockedBuffer{}
	o := options(newHub(t, "ok"))
	o.Log = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	start(t, s, o)

	link.Cut()
	testwait.For(t, "the outage logged", func() bool { return strings.Contains(logs.String(), "level=ERROR") })
	testwait.For(t, "twenty more failed polls", func() bool { return strings.Count(logs.String(), "level=DEBUG") >= 20 })
	link.Restore()
	testwait.For(t, "the recovery logged", func() bool { return strings.Contains(logs.String(), "the store answers again") })
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d error lines for one outage of one worker, want 1:\n%s", n, logs.String())
	}
}

// lockedBuffer is a bytes.Buffer a logger writes to while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
