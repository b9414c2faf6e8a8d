package app

import (
	"log/slog"

	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/websub"
)

// WebSubOptions maps the websub section of the configuration to the notifier's options.
func WebSubOptions(cfg *config.Config, log *slog.Logger) websub.Options {
	w := cfg.WebSub
	return websub.Options{
		Hubs: w.HubList(), Log: log, PerHub: w.PerHub, InFlight: w.InFlight, MaxAttempts: w.MaxAttempts,
		MaxAge: w.MaxAge.D(), BackoffBase: w.BackoffBase.D(), BackoffMax: w.BackoffMax.D(), Timeout: w.Timeout.D(),
	}
}
