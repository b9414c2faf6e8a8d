// Package websub tells WebSub hubs (https://www.w3.org/TR/websub/ §6) that a feed changed, so
// subscribed readers get new items pushed instead of polling.
//
// Notifications go through a durable queue in the store (store.Queue), not straight to the hub:
//
//   - Publish only records the changed feeds in memory and returns. A background writer saves
//     them to the queue in batches, so a build never waits on the database or a hub, and a
//     rebuild of every channel costs a few transactions instead of thousands of goroutines.
//   - The queue holds one row per hub and feed: a feed changed five times before its ping went
//     out is pinged once. A change that arrives while its ping is in flight gets one more ping,
//     since the hub may have fetched the feed before the change.
//   - Each hub has a worker that claims due rows for a lease (Options.ClaimTTL) and sends them,
//     never more than Options.PerHub at a time to one hub nor Options.InFlight in all (per
//     process). On PostgreSQL replicas claim with FOR UPDATE SKIP LOCKED, so each notification
//     is sent by one replica; a replica that dies loses its claims when their lease runs out.
//   - A failed attempt is retried after a back-off that doubles from Options.BackoffBase up to
//     Options.BackoffMax, saved with the row so it survives restarts. After Options.MaxAttempts
//     attempts, or once the row is older than Options.MaxAge, the notification is dropped and
//     counted. Rows queued for hubs no longer configured are dropped at Start.
//
// The built-in hub of issue #18 reuses the queue and the workers (worker.go), which know of a
// delivery only its kind and a send function: its content distributions to subscribers are rows
// of another kind (target = the subscriber's callback, payload = the content), claimed, bounded,
// retried and given up by the same code with a send that POSTs the content.
package websub

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// KindPublish is the queue kind of a publish ping to a hub.
const KindPublish = "websub.publish"

// Options tune a Notifier; zero fields take the defaults in brackets.
type Options struct {
	Hubs   []string
	Client *http.Client // [a client of its own]; Options.Timeout bounds each attempt
	Log    *slog.Logger // [slog.Default()]

	PerHub      int           // notifications in flight to one hub [4]
	InFlight    int           // notifications in flight in all [16]
	MaxAttempts int           // attempts before a notification is dropped [10]
	MaxAge      time.Duration // age after which a failing notification is dropped [24h]
	BackoffBase time.Duration // wait after the first failure, doubled after each [5s]
	BackoffMax  time.Duration // longest wait between attempts [10m]
	Timeout     time.Duration // one attempt, including the hub's answer [10s]
	// ClaimTTL is how long a claimed row stays away from other workers; it must outlast an
	// attempt and the store writes around it [Timeout + 30s].
	ClaimTTL time.Duration
	// Poll is how often a worker looks for due rows when nothing woke it: retries that came due,
	// rows other replicas enqueued [1s].
	Poll time.Duration
	// MaxPending bounds the changes Publish keeps in memory before the writer saves them; more
	// are dropped and counted [100000].
	MaxPending int
	Now        func() time.Time // [time.Now]
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.PerHub, 4)
	def(&o.InFlight, 16)
	def(&o.MaxAttempts, 10)
	def(&o.MaxPending, 100000)
	defD(&o.MaxAge, 24*time.Hour)
	defD(&o.BackoffBase, 5*time.Second)
	defD(&o.BackoffMax, 10*time.Minute)
	defD(&o.Timeout, 10*time.Second)
	defD(&o.ClaimTTL, o.Timeout+30*time.Second)
	defD(&o.Poll, time.Second)
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = o.BackoffBase
	}
	if o.Client == nil {
		// The default transport keeps 2 idle connections per host: fewer than PerHub, so a busy
		// hub would get a new connection for most pings.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = o.PerHub
		o.Client = &http.Client{Transport: t}
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Notifier publishes feed changes to hubs through the queue.
type Notifier struct {
	q   store.Queue
	opt Options
	m   *metrics
	// kind and send are all the workers know of what they deliver: a built-in hub's content
	// distribution is another kind with another send.
	kind string
	send func(ctx context.Context, d store.Delivery) error
	// metricPrefix names the metrics ["syndicate_websub"] (see NewDeliverer).
	metricPrefix string

	mu      sync.Mutex
	pending map[pingKey]struct{}     // changes Publish took and the writer has not saved
	flushMu sync.Mutex               // one writer at a time, so batches keep their order
	dirty   chan struct{}            // Publish → writer
	wake    map[string]chan struct{} // writer → hub worker, by hub

	slots   chan struct{} // InFlight tokens shared by every hub
	loops   sync.WaitGroup
	sends   sync.WaitGroup
	loopCtx context.Context // of the writer and the workers
	stop    context.CancelFunc
	sendTo  context.Context // of attempts in flight
	abort   context.CancelFunc
	started sync.Once
	closed  sync.Once
}

type pingKey struct{ hub, topic string }

// New returns a notifier on q; Start starts its writer and workers.
func New(q store.Queue, opt Options) *Notifier {
	opt.defaults()
	// A hub listed twice would get two workers, and twice PerHub pings at once.
	var hubs []string
	for _, h := range opt.Hubs {
		if !slices.Contains(hubs, h) {
			hubs = append(hubs, h)
		}
	}
	opt.Hubs = hubs
	n := &Notifier{q: q, opt: opt, kind: KindPublish, pending: map[pingKey]struct{}{}, dirty: make(chan struct{}, 1),
		wake: map[string]chan struct{}{}, slots: make(chan struct{}, opt.InFlight)}
	n.send = func(ctx context.Context, d store.Delivery) error { return n.post(ctx, d.Target, d.Topic) }
	n.m = newMetrics(n)
	n.loopCtx, n.stop = context.WithCancel(context.Background())
	n.sendTo, n.abort = context.WithCancel(context.Background())
	for _, h := range opt.Hubs {
		n.wake[h] = make(chan struct{}, 1)
	}
	return n
}

// Start starts the writer and a worker per hub, which send what the queue holds, left by an
// earlier process included. Notifications for hubs no longer configured are dropped first:
// nothing would ever send them. It is safe to call more than once.
func (n *Notifier) Start() {
	n.started.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		if gone, err := n.q.ForgetTargets(ctx, n.kind, n.opt.Hubs); err != nil {
			n.opt.Log.Error("websub: drop notifications for hubs no longer configured", slog.Any("error", err))
		} else if gone > 0 {
			n.m.dropped.WithLabelValues(reasonUnconfigured).Add(float64(gone))
			n.opt.Log.Warn("websub: dropped notifications for hubs no longer configured", slog.Int64("notifications", gone))
		}
		if len(n.opt.Hubs) == 0 {
			return
		}
		n.loops.Add(1)
		go func() {
			defer n.loops.Done()
			n.writer(n.loopCtx)
		}()
		for _, h := range n.opt.Hubs {
			n.loops.Add(1)
			go func() {
				defer n.loops.Done()
				n.work(n.loopCtx, h)
			}()
		}
	})
}

// Publish records that the topics (feed URLs) changed, for every hub. It never blocks on the
// store or a hub, and never fails: a change it cannot keep is logged and counted as dropped.
func (n *Notifier) Publish(topics ...string) {
	if len(n.opt.Hubs) == 0 || len(topics) == 0 {
		return
	}
	n.take(func(yield func(pingKey) bool) {
		for _, h := range n.opt.Hubs {
			for _, t := range topics {
				if !yield(pingKey{hub: h, topic: t}) {
					return
				}
			}
		}
	})
	select {
	case n.dirty <- struct{}{}:
	default:
	}
}

// writer saves what Publish took, batch after batch, until ctx ends (SaveLoop).
func (n *Notifier) writer(ctx context.Context) { SaveLoop(ctx, n.dirty, 0, n.flush) }

// Flush saves the changes Publish took so far to the queue. Close calls it; tests call it to
// know that the queue holds every change published before. A batch the store refuses is kept
// for the writer's next attempt, and the error returned.
func (n *Notifier) Flush() error { return n.flush() }

func (n *Notifier) flush() error {
	n.flushMu.Lock()
	defer n.flushMu.Unlock()
	n.mu.Lock()
	items := make([]store.QueueItem, 0, len(n.pending))
	for k := range n.pending {
		items = append(items, store.QueueItem{Target: k.hub, Topic: k.topic})
	}
	clear(n.pending)
	n.mu.Unlock()
	if len(items) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.q.Enqueue(ctx, n.kind, items, n.opt.Now()); err != nil {
		// Kept for the writer's next attempt, with what Publish took meanwhile.
		overflow := n.take(func(yield func(pingKey) bool) {
			for _, it := range items {
				if !yield(pingKey{hub: it.Target, topic: it.Topic}) {
					return
				}
			}
		})
		n.opt.Log.Error("websub: queue notifications; kept in memory to try again", slog.Int("notifications", len(items)-overflow), slog.Any("error", err))
		return fmt.Errorf("websub: queue %d notifications: %w", len(items), err)
	}
	for target := range n.wake {
		n.wakeWorker(target)
	}
	return nil
}

// take adds keys to the changes waiting for the writer, within MaxPending, and returns how many
// did not fit: those are dropped and counted.
func (n *Notifier) take(keys iter.Seq[pingKey]) (overflow int) {
	n.mu.Lock()
	for k := range keys {
		if _, ok := n.pending[k]; !ok && len(n.pending) >= n.opt.MaxPending {
			overflow++
			continue
		}
		n.pending[k] = struct{}{}
	}
	n.mu.Unlock()
	if overflow > 0 {
		n.m.dropped.WithLabelValues(reasonOverflow).Add(float64(overflow))
		n.opt.Log.Error("websub: too many changes waiting to be queued; notifications dropped", slog.Int("dropped", overflow))
	}
	return overflow
}

// dropPending counts and logs the changes still in memory as dropped for reason: Close's last
// save failed, and nothing will try again.
func (n *Notifier) dropPending(reason string, err error) {
	n.mu.Lock()
	left := len(n.pending)
	clear(n.pending)
	n.mu.Unlock()
	if left == 0 {
		return
	}
	n.m.dropped.WithLabelValues(reason).Add(float64(left))
	n.opt.Log.Error("websub: closing with notifications the store refused; they are dropped", slog.Int("notifications", left), slog.Any("error", err))
}

// Depth reports the notifications in the queue, in flight ones included, and not those Publish
// took and the writer has not saved yet (see Flush).
func (n *Notifier) Depth(ctx context.Context) (int64, error) {
	d, _, err := n.q.QueueStats(ctx, n.kind)
	return d, err
}

// Close stops claiming, saves what Publish took (also when it was never started), and waits for attempts in flight up to ctx;
// then it cuts them short (they are retried after a restart). Rows left in the queue are sent
// by the next Notifier on the store.
func (n *Notifier) Close(ctx context.Context) error {
	var err error
	n.closed.Do(func() {
		n.stop()
		n.loops.Wait()
		if ferr := n.flush(); ferr != nil {
			n.dropPending(reasonStore, ferr)
		}
		done := make(chan struct{})
		go func() { n.sends.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			n.abort()
			<-done
			err = fmt.Errorf("websub: close: notifications in flight cut short: %w", ctx.Err())
		}
		n.abort()
	})
	return err
}

// post sends one publish ping (WebSub §6: hub.mode=publish, hub.url=topic, form-encoded).
func (n *Notifier) post(ctx context.Context, hub, topic string) error {
	ctx, cancel := context.WithTimeout(ctx, n.opt.Timeout)
	defer cancel()
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {topic}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := n.opt.Client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("no answer within %s", n.opt.Timeout)
		}
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hub answered %s", resp.Status)
	}
	return nil
}
