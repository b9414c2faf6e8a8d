// Package app wires Syndicate's parts into one running service: store, NATS and the relay, the
// build jobs on their schedules, and the HTTP server. cmd/syndicate and the end-to-end tests both
// start the service through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/demo"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/hub"
	"github.com/yongzhou-news/syndicate/metrics"
	"github.com/yongzhou-news/syndicate/natsaddr"
	"github.com/yongzhou-news/syndicate/publisher"
	"github.com/yongzhou-news/syndicate/relay"
	"github.com/yongzhou-news/syndicate/schedule"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/web"
	"github.com/yongzhou-news/syndicate/websub"
)

// App is one running Syndicate instance.
type App struct {
	Config    *config.Config
	Log       *slog.Logger
	Site      syndicate.Site
	Tree      *syndicate.Tree
	Store     store.Store
	NATS      *publisher.Conn
	Relay     *relay.Relay
	Builder   *build.Builder
	Scheduler *schedule.Scheduler
	Jobs      *schedule.Service // the scheduler as operators see it: saved settings, history
	Web       *web.Server
	Metrics   *metrics.Metrics
	WebSub    *websub.Notifier
	Hub       *hub.Hub // the built-in WebSub hub; nil when websub.builtin is off
	// TokenFile is where a generated admin token was saved ("" when configured).
	TokenFile string
	// Replica names this process among the replicas sharing a store and NATS.
	Replica string

	startingDeadlines map[string]time.Duration // channel slug → catch-up deadline (0: none)
	control           *cluster.Control         // messages to other replicas; nil without external NATS
	relayDone         chan struct{}
	stopRelay         context.CancelFunc
	stopReconcile     context.CancelFunc // nil unless the store is shared (cluster.Reconcile)
	closeOnce         sync.Once
}

// defaultBackoffBase is a failing source's first wait; it doubles up to ingest.backoff_max.
const defaultBackoffBase = time.Minute

// BuildJobName is the scheduler's name for a channel's build job.
func BuildJobName(slug string) string { return "build:" + slug }

// New opens the store and NATS and wires every part; nothing runs until Start.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (_ *App, err error) {
	tree, err := cfg.Tree()
	if err != nil {
		return nil, err
	}
	// Before anything is created (the store, the data dir's secrets, the embedded server): a bad
	// NATS option must not leave a half set-up data dir behind.
	if err := PublisherOptions(cfg).Check(); err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Site: cfg.SiteInfo(), Tree: tree, Replica: cluster.NewReplicaID(), startingDeadlines: cfg.StartingDeadlines()}
	// a is not the named result: `return nil, err` would set that to nil before this runs, and
	// the nil-pointer panic would hide err.
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()
	// Through a local: a failed open returns a typed nil, which in a.Store would not be == nil
	// and Close would call it.
	st, err := OpenStore(ctx, cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	a.Store = st
	if cfg.Demo {
		if err := demo.Load(ctx, a.Store, a.Tree, a.Log); err != nil {
			return nil, err
		}
	}
	tokens, tokenFile, err := web.AdminTokens(cfg.Admin.Token, cfg.DataDir, log)
	a.TokenFile = tokenFile
	if err != nil {
		return nil, err
	}
	popts := PublisherOptions(cfg)
	if popts.URLs == "" {
		if popts.Listen, err = natsaddr.Choose(popts.Listen, log); err != nil {
			return nil, err
		}
		if popts.User, popts.Password, err = publisher.EmbeddedCredentials(cfg.DataDir, popts.User, popts.Password, log); err != nil {
			return nil, err
		}
	}
	if a.NATS, err = publisher.StartRetrying(ctx, popts, log.With(slog.String("component", "nats"))); err != nil {
		return nil, err
	}
	if addr := a.NATS.EmbeddedAddr(); addr != "" {
		if err := natsaddr.Record(cfg.DataDir, addr); err != nil {
			return nil, err
		}
		if err := publisher.WriteCLIContext(cfg.DataDir, addr, popts.User, popts.Password, log); err != nil {
			return nil, err
		}
	}
	a.Relay = relay.New(a.NATS.JetStream(), a.Store, relay.Options{Stream: cfg.NATS.Stream, Retention: cfg.NATS.Retention.D()},
		log.With(slog.String("component", "relay")))
	hubs := cfg.WebSub.HubList()
	a.WebSub = websub.New(a.Store, WebSubOptions(cfg, log.With(slog.String("component", "websub"))))
	if a.Hub = newHub(cfg, a.Site, tree, a.Store, log.With(slog.String("component", "hub"))); a.Hub != nil {
		hubs = append([]string{a.Hub.URL()}, hubs...) // advertised, not pinged: it hears of changes directly
	}
	a.Builder = &build.Builder{
		Store: a.Store, Site: a.Site, Tree: tree, SubjectPrefix: cfg.NATS.SubjectPrefix, Hubs: hubs,
		Stylesheets: cfg.HTTP.Stylesheet, Committed: a.committed,
		SiteSchedule: cfg.Defaults.Schedule, SiteLimit: cfg.Defaults.Limit,
		Skipped: a.itemSkipped,
	}
	a.Scheduler = schedule.New(cfg.Site.Timezone, log.With(slog.String("component", "schedule")))
	a.Jobs = a.newJobs()
	for _, slug := range a.buildSlugs() {
		spec := cfg.Defaults.Schedule
		if ch, ok := tree.Channel(slug); ok {
			spec = ch.Schedule
		}
		a.Jobs.Configured[BuildJobName(slug)] = spec
		if err := a.Scheduler.Add(schedule.Job{Name: BuildJobName(slug), Spec: spec, Run: func(ctx context.Context) (int, error) {
			r, err := a.Builder.Build(ctx, slug)
			schedule.Report(ctx, schedule.Changes{Documents: len(r.Documents), Events: r.Events})
			return r.Items, err
		}}); err != nil {
			return nil, err
		}
	}
	a.Metrics = metrics.New()
	a.Metrics.Observe(a.Scheduler)
	a.Metrics.Register(metrics.OutboxCollectors(a.Store, a.Relay)...)
	a.Metrics.Register(a.WebSub.Collectors()...)
	if a.Hub != nil {
		a.Metrics.Register(a.Hub.Collectors()...)
	}
	if err := a.addIngestJobs(); err != nil {
		return nil, err
	}
	if err := a.Jobs.ApplySaved(ctx); err != nil {
		return nil, err
	}
	a.coordinate()
	stylesheets := map[string][]byte{}
	if cfg.HTTP.Stylesheet {
		for _, f := range []string{syndicate.FormatRSS, syndicate.FormatAtom} {
			if xsl, ok := feed.XSL(f); ok {
				stylesheets[build.StylesheetPath(f)] = xsl
			}
		}
	}
	a.Web = web.New(web.Options{
		Store: a.Store, Tree: tree, Site: a.Site, Tokens: tokens, Log: log.With(slog.String("component", "http")),
		Checks:      map[string]func(context.Context) error{"store": a.Store.Ping, "nats": a.NATS.Ping},
		Stylesheets: stylesheets, Jobs: a.Jobs, Metrics: a.Metrics,
		Cache: web.CachePolicy{NextBuild: a.nextBuild, Min: cfg.HTTP.MaxAgeMin.D(), Max: cfg.HTTP.MaxAgeMax.D()},
		Hubs:  hubs, Hub: webHub(a.Hub), MaxInFlight: cfg.HTTP.MaxInFlight,
		IdentityCacheBytes: identityBudget(cfg.HTTP.IdentityCacheBytes),
		Limits:             cfg.Limits.Article(),
		ImportBatch:        cfg.Import.BatchSize,
	})
	if err := a.Web.LoadDocuments(ctx); err != nil {
		return nil, err
	}
	// Last: the other replicas' messages update what is built above.
	if cfg.NATS.URL != "" {
		if err := a.joinCluster(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// buildSlugs lists every feed a build job keeps: each channel, then the site-wide feed.
func (a *App) buildSlugs() []string {
	return append(a.Tree.Slugs(), syndicate.SiteFeed)
}

// nextBuild is when a channel's feed is next rebuilt; zero while its job is paused.
func (a *App) nextBuild(slug string) time.Time { return a.Scheduler.NextRun(BuildJobName(slug)) }

// committed runs after every build that saved something: serve the new documents, wake the relay.
func (a *App) committed(r build.Result) {
	if len(r.Documents) > 0 {
		if err := a.Web.Cache().Put(r.Documents...); err != nil {
			a.Log.Error("cache new documents", slog.String("channel", r.Channel), slog.Any("error", err))
		}
		topics := make([]string, 0, len(r.Documents))
		for _, d := range r.Documents {
			topics = append(topics, a.Site.FeedURL(d.Channel, d.Format))
		}
		a.WebSub.Publish(topics...)
		if a.Hub != nil {
			a.Hub.Publish(r.Documents...)
		}
		a.announce(cluster.KindDocuments, r.Channel)
	}
	if r.Events > 0 {
		a.Relay.Notify()
	}
}

// itemSkipped reports an article a build left out because it cannot be rendered: the feed went
// on without it, and the article needs fixing.
func (a *App) itemSkipped(s build.Skip) {
	attrs := []any{slog.String("channel", s.Channel), slog.String("article_id", s.ArticleID), slog.Any("error", s.Err)}
	var p *build.PanicError
	if errors.As(s.Err, &p) {
		attrs = append(attrs, slog.String("stack", p.Stack))
	}
	a.Log.Warn("article left out of a feed: it cannot be rendered", attrs...)
	a.Metrics.ItemSkipped(s.Channel)
}

// Start serves HTTP on the configured address, starts the relay and the schedules, and runs the
// builds that never ran or missed a tick while the service was down.
func (a *App) Start(ctx context.Context) (net.Addr, error) {
	addr, err := a.Web.Listen(a.Config.HTTP.Addr)
	if err != nil {
		return nil, err
	}
	relayCtx, stop := context.WithCancel(context.Background())
	a.stopRelay, a.relayDone = stop, make(chan struct{})
	go func() {
		defer close(a.relayDone)
		a.Relay.Supervise(relayCtx, func() { a.Metrics.Panicked("relay") })
	}()
	a.WebSub.Start()
	if a.Hub != nil {
		a.Hub.Start()
	}
	a.Scheduler.Start()
	if _, shared := a.Store.(store.Leaser); shared {
		// Replicas on one store: bound how long one that missed a control message serves old bytes.
		reconcileCtx, stop := context.WithCancel(context.Background())
		a.stopReconcile = stop
		go cluster.Reconcile(reconcileCtx, cluster.ReconcileEvery, a.Store, a.Web.Cache(), a.Log.With(slog.String("component", "cluster")))
	}
	go a.catchUp(context.WithoutCancel(ctx))
	a.Log.Info("syndicate started", slog.String("http", addr.String()), slog.Int("channels", len(a.Tree.Slugs())))
	return addr, nil
}

// Close shuts down in order: schedules (a running build finishes), HTTP, relay flush, NATS (client
// drain, then the embedded server), store. It is safe to call more than once.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	a.closeOnce.Do(func() {
		if a.stopReconcile != nil {
			a.stopReconcile()
		}
		if a.Scheduler != nil {
			errs = append(errs, a.Scheduler.Stop(ctx))
		}
		if a.Jobs != nil {
			a.Jobs.Runs.Close(ctx)
		}
		if a.Web != nil {
			errs = append(errs, a.Web.Shutdown(ctx))
		}
		if a.stopRelay != nil {
			a.stopRelay()
			<-a.relayDone
			flushCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if err := a.Relay.Flush(flushCtx); err != nil {
				errs = append(errs, fmt.Errorf("app: final relay flush: %w", err))
			}
			cancel()
		}
		if a.WebSub != nil {
			errs = append(errs, a.WebSub.Close(ctx))
		}
		if a.Hub != nil {
			errs = append(errs, a.Hub.Close(ctx))
		}
		if a.NATS != nil {
			errs = append(errs, a.NATS.Close(ctx))
		}
		if a.Store != nil {
			errs = append(errs, a.Store.Close())
		}
	})
	return errors.Join(errs...)
}

// PublisherOptions maps the nats section of the configuration to the publisher options.
func PublisherOptions(cfg *config.Config) publisher.Options {
	n := cfg.NATS
	return publisher.Options{
		URLs: n.URL, Listen: n.Listen, StoreDir: n.StoreDir, Stream: n.Stream, SubjectPrefix: n.SubjectPrefix,
		MaxAge: n.MaxAge.D(), MaxBytes: n.MaxBytes, Duplicates: n.Duplicates.D(), Replicas: n.Replicas,
		StartupTimeout: n.StartupTimeout.D(),
		Name:           n.Name, CredsFile: n.CredsFile, NKeySeedFile: n.NKeySeedFile, User: n.User, Password: n.Password,
		Token: n.Token, TLSCA: n.TLSCA, TLSCert: n.TLSCert, TLSKey: n.TLSKey,
	}
}

// identityBudget maps the configured identity cache size to web.Options, where 0 means the
// default and a negative value none.
func identityBudget(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
