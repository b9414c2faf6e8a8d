package app

import (
	"context"
	"log/slog"

	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/schedule"
)

// IngestJobName is the scheduler's name for an upstream source's poll job.
func IngestJobName(source string) string { return "ingest:" + source }

// Version is reported in the User-Agent of upstream polls; cmd/syndicate sets it.
var Version = "dev"

// addIngestJobs schedules one poll job per configured source.
func (a *App) addIngestJobs() error {
	cfg := a.Config
	client := ingest.NewClient(ingest.ClientOptions{
		Timeout: cfg.Ingest.Timeout.D(), MaxRedirects: cfg.Ingest.MaxRedirects,
		Policy: ingest.AddressPolicy{AllowPrivate: cfg.Ingest.AllowPrivate},
	})
	poller := &ingest.Poller{
		Store: a.Store, Tree: a.Tree, Client: client,
		UserAgent: "Syndicate/" + Version + " (+" + a.Site.BaseURL + ")",
		MaxBytes:  cfg.Ingest.MaxBytes, Limits: cfg.Limits.Article(),
		Log:         a.Log.With(slog.String("component", "ingest")),
		BackoffBase: defaultBackoffBase, BackoffMax: cfg.Ingest.BackoffMax.D(),
		Fetched: func(source, result string) { a.Metrics.IngestFetches.WithLabelValues(source, result).Inc() },
	}
	for _, s := range cfg.Sources {
		src := ingest.Source{Name: s.Name, URL: s.URL, Channels: s.Channels, Header: s.Headers}
		a.Jobs.Configured[IngestJobName(s.Name)] = s.Schedule
		err := a.Scheduler.Add(schedule.Job{Name: IngestJobName(s.Name), Spec: s.Schedule, Timeout: 2 * cfg.Ingest.Timeout.D(),
			Run: func(ctx context.Context) (int, error) {
				r, err := poller.Poll(ctx, src)
				return r.Created + r.Updated, err
			}})
		if err != nil {
			return err
		}
	}
	return nil
}
