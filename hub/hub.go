// Package hub is Syndicate's built-in WebSub hub (W3C WebSub Recommendation, issue #18): readers
// subscribe to this service's own feeds at POST /websub, and every change a build makes is pushed
// to them, signed when they asked for it.
//
//   - Subscribing (§5.1) answers 202 Accepted and verifies the subscriber's intent later (§5.3):
//     a GET to the callback that must echo hub.challenge. Only then is the subscription saved
//     (store.Subscriptions), with a lease between Options.LeaseDefault and Options.LeaseMax;
//     subscribing again renews it, and leases that ran out are purged. A topic that is not one of
//     this service's channel feeds is denied (§5.2): a GET with hub.mode=denied.
//   - Content distribution (§7) goes through the store's durable queue (store.Queue, kind
//     KindDistribute) and websub's workers: one row per subscription, so the newest document
//     wins when a feed changes again before its delivery went out; on PostgreSQL every replica
//     claims rows, and each delivery is made by one. Failures are retried with back-off for a
//     bounded time, then dropped and counted. The queue's targets are a fixed set of lanes, each
//     subscriber's by the hash of its callback host: a worker per callback would cost a
//     goroutine and a poll of the store per subscriber, and a lane keeps a dead host's
//     deliveries from taking the slots of subscribers in other lanes. Within a lane, no host
//     has more than Options.PerHost deliveries in flight from one replica: the next ones are postponed
//     (websub.Postponed) rather than made to wait in a slot, so a host that hangs delays only
//     its own subscribers.
//   - Every request the hub makes goes to the callback the subscriber named, through ingest's
//     client: its AddressPolicy refuses loopback, private, link-local and multicast addresses
//     when dialling (after DNS resolution), it follows no redirect and uses no proxy, and
//     requests time out and read bounded answers. The endpoint is rate limited per client
//     address (per /64 for IPv6; the connection's peer, so behind a proxy the proxy's, and per
//     replica), and subscriptions are limited per topic and per callback host.
package hub

import (
	"context"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/websub"
)

// KindDistribute is the queue kind of a content distribution to a subscriber.
const KindDistribute = "websub.distribute"

// Path is where the hub is served under the site's base URL.
const Path = "/websub"

// lanes is the number of queue targets deliveries are spread over. Changing it drops queued
// deliveries (websub drops rows of targets no longer served), so it is no setting.
const lanes = 8

// Store is what the hub keeps and reads.
type Store interface {
	store.Subscriptions
	store.Queue
	Document(ctx context.Context, channel, format string) (syndicate.Document, error)
}

// Options configure a Hub; zero fields take the defaults in brackets.
type Options struct {
	Store Store
	Site  syndicate.Site
	Tree  *syndicate.Tree
	Log   *slog.Logger // [slog.Default()]
	// Policy judges the addresses callbacks resolve to (websub.allow_private).
	Policy ingest.AddressPolicy

	LeaseDefault time.Duration // lease when the subscriber asks for none [10 days]
	LeaseMax     time.Duration // longest lease granted [30 days]
	LeaseMin     time.Duration // shortest lease granted [1 minute]
	MaxPerTopic  int           // subscriptions to one topic [10000]
	MaxPerHost   int           // subscriptions whose callback is on one host [100]
	// PerHost bounds deliveries in flight to one callback host; more are postponed, so that a
	// slow host takes no more of its lane's slots [4].
	PerHost int
	Timeout time.Duration // one verification or delivery request [10s]
	// Rate and Burst limit hub requests per client address, per second [1] and at once [10].
	Rate  float64
	Burst int
	// Verifying bounds verifications in flight; past it requests get 503 [64].
	Verifying int
	// Delivery tunes the queue's workers (attempts, back-off, age, slots); its Hubs, Client and
	// Now are set by the hub. PerHub is per lane [InFlight/2, at least 2*PerHost].
	Delivery websub.Options
	Now      func() time.Time // [time.Now]
}

func (o *Options) defaults() {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defD(&o.LeaseDefault, 10*24*time.Hour)
	defD(&o.LeaseMax, 30*24*time.Hour)
	defD(&o.LeaseMin, time.Minute)
	defD(&o.Timeout, 10*time.Second)
	o.LeaseMax = max(o.LeaseMax, o.LeaseMin)
	o.LeaseDefault = min(max(o.LeaseDefault, o.LeaseMin), o.LeaseMax)
	if o.MaxPerTopic <= 0 {
		o.MaxPerTopic = 10000
	}
	if o.MaxPerHost <= 0 {
		o.MaxPerHost = 100
	}
	if o.Rate <= 0 {
		o.Rate = 1
	}
	if o.Burst <= 0 {
		o.Burst = 10
	}
	if o.Verifying <= 0 {
		o.Verifying = 64
	}
	if o.Delivery.InFlight <= 0 {
		o.Delivery.InFlight = 64
	}
	if o.PerHost <= 0 {
		o.PerHost = 4
	}
	// A lane may use half the process's slots: with PerHost well below that, a host that hangs
	// leaves most of its lane's slots to the other hosts there.
	if o.Delivery.PerHub <= 0 {
		o.Delivery.PerHub = max(2*o.PerHost, o.Delivery.InFlight/2)
	}
	o.Delivery.Timeout = o.Timeout
	o.Delivery.Now = o.Now
	if o.Delivery.Log == nil {
		o.Delivery.Log = o.Log
	}
}

// feedRef names one of this service's feeds.
type feedRef struct{ channel, format string }

// Hub is the built-in WebSub hub.
type Hub struct {
	opt    Options
	url    string
	topics map[string]feedRef // topic URL → feed, channel feeds only
	client *http.Client
	lanes  []string
	out    *websub.Notifier
	m      *metrics
	limits *limiter
	hosts  *hostGate

	docMu sync.Mutex
	docs  map[feedRef]*sendDoc // newest document of each feed with deliveries to make (sweepDocs)

	mu      sync.Mutex
	pending map[string]syndicate.Document // by topic: changes Publish took and the fan-out has not queued
	dirty   chan struct{}
	flushMu sync.Mutex // one flush at a time, so an older change is never queued after a newer one

	saveMu      sync.Mutex // one subscription counted and saved at a time (save)
	verifySlots chan struct{}
	verifying   sync.WaitGroup
	loops       sync.WaitGroup
	ctx         context.Context // of the loops and verifications
	stop        context.CancelFunc
	started     sync.Once
	closed      sync.Once
}

// New returns a hub; Start starts its workers.
func New(opt Options) *Hub {
	opt.defaults()
	h := &Hub{opt: opt, url: opt.Site.BaseURL + Path, topics: map[string]feedRef{}, docs: map[feedRef]*sendDoc{},
		pending: map[string]syndicate.Document{}, dirty: make(chan struct{}, 1), verifySlots: make(chan struct{}, opt.Verifying)}
	// The site-wide feed is left out: its items are every channel's, already pushed to their
	// subscribers. Archive pages never change once complete.
	for _, slug := range opt.Tree.Slugs() {
		if slug == syndicate.SiteFeed {
			continue
		}
		for _, f := range syndicate.Formats {
			h.topics[opt.Site.FeedURL(slug, f)] = feedRef{channel: slug, format: f}
		}
	}
	// MaxRedirects 0: a redirect would send the request to a host the subscriber did not name.
	h.client = ingest.NewClient(ingest.ClientOptions{Timeout: opt.Timeout, MaxRedirects: 0, Policy: opt.Policy})
	for i := range lanes {
		h.lanes = append(h.lanes, h.url+"#lane-"+strconv.Itoa(i))
	}
	d := opt.Delivery
	d.Hubs, d.Client = h.lanes, h.client
	h.out = websub.NewDeliverer(opt.Store, KindDistribute, "syndicate_websub_hub", h.send, d)
	h.limits = newLimiter(opt.Rate, opt.Burst, opt.Now)
	h.hosts = newHostGate(opt.PerHost, time.Now)
	h.m = newMetrics(h)
	h.ctx, h.stop = context.WithCancel(context.Background())
	return h
}

// URL is the hub's public URL, advertised as rel="hub".
func (h *Hub) URL() string { return h.url }

// Topic reports whether topic is a feed of this service that can be subscribed to.
func (h *Hub) Topic(topic string) bool { _, ok := h.topics[topic]; return ok }

// lane is the queue target of deliveries to callbacks on host.
func (h *Hub) lane(host string) string {
	f := fnv.New32a()
	f.Write([]byte(host))
	return h.lanes[f.Sum32()%lanes]
}

// Start starts the delivery workers, the fan-out of changes and the purge of expired leases.
func (h *Hub) Start() {
	h.started.Do(func() {
		h.out.Start()
		h.loops.Add(2)
		go func() { defer h.loops.Done(); h.fanOut(h.ctx) }()
		go func() { defer h.loops.Done(); h.purge(h.ctx) }()
	})
}

// purge deletes expired subscriptions now and then, they stopped receiving when they expired,
// and forgets the documents no delivery needs any more.
func (h *Hub) purge(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		h.purgeOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (h *Hub) purgeOnce(ctx context.Context) {
	if n, err := h.opt.Store.PurgeSubscriptions(ctx, h.opt.Now()); err != nil && ctx.Err() == nil {
		h.opt.Log.Error("websub hub: purge expired subscriptions", slog.Any("error", err))
	} else if n > 0 {
		h.opt.Log.Info("websub hub: expired subscriptions purged", slog.Int64("subscriptions", n))
	}
	h.sweepDocs(ctx)
}

// Close stops taking changes, queues those taken, waits for verifications and deliveries in
// flight up to ctx, and stops the workers. Queued deliveries are made after a restart; changes
// the store still refuses at Close are logged and lost.
func (h *Hub) Close(ctx context.Context) error {
	var err error
	h.closed.Do(func() {
		h.stop()
		h.loops.Wait()
		if ferr := h.flush(); ferr != nil {
			h.mu.Lock()
			lost := len(h.pending)
			clear(h.pending)
			h.mu.Unlock()
			h.opt.Log.Error("websub hub: closing with changes the store refused; their deliveries are lost", slog.Int("topics", lost), slog.Any("error", ferr))
		}
		done := make(chan struct{})
		go func() { h.verifying.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
		err = h.out.Close(ctx)
	})
	return err
}

// Subscriptions lists the subscriptions whose lease has not run out, for operators.
func (h *Hub) Subscriptions(ctx context.Context) ([]store.Subscription, error) {
	return h.opt.Store.ListSubscriptions(ctx, h.opt.Now())
}
