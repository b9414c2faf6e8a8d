package app

import (
	"log/slog"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/hub"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/web"
	"github.com/yongzhou-news/syndicate/websub"
)

// newHub returns the built-in WebSub hub configured by the websub section, nil when
// websub.builtin is off. Its deliveries retry like the pings to external hubs.
func newHub(cfg *config.Config, site syndicate.Site, tree *syndicate.Tree, st store.Store, log *slog.Logger) *hub.Hub {
	w := cfg.WebSub
	if !w.Builtin {
		return nil
	}
	return hub.New(hub.Options{
		Store: st, Site: site, Tree: tree, Log: log,
		Policy:       ingest.AddressPolicy{AllowPrivate: w.AllowPrivate},
		LeaseDefault: w.LeaseDefault.D(), LeaseMax: w.LeaseMax.D(), MaxPerTopic: w.MaxPerTopic, MaxPerHost: w.MaxPerHost,
		Timeout: w.Timeout.D(), Rate: float64(w.HubRatePerMinute) / 60, Burst: w.HubBurst,
		Delivery: websub.Options{InFlight: w.HubInFlight, MaxAttempts: w.MaxAttempts, MaxAge: w.MaxAge.D(),
			BackoffBase: w.BackoffBase.D(), BackoffMax: w.BackoffMax.D()},
	})
}

// webHub is h for web.Options: a nil *hub.Hub must become a nil interface, or the routes would
// be served by nothing.
func webHub(h *hub.Hub) web.Hub {
	if h == nil {
		return nil
	}
	return h
}
