package cluster

import (
	"context"
	"log/slog"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Bounds of the rereads a control message starts: the store may be the thing that hangs, and a
// reload must not pile up behind it.
const (
	reloadTimeout    = 10 * time.Second
	reloadAllTimeout = time.Minute
)

// Reloads is what a replica rereads from the store, the source of truth, when another replica
// announces a change.
type Reloads struct {
	// Store holds the documents another replica's build saved.
	Store interface {
		Document(ctx context.Context, channel, format string) (syndicate.Document, error)
	}
	// Cache is where this replica serves documents from.
	Cache interface {
		Put(docs ...syndicate.Document) error
	}
	// AllDocuments rereads every document into Cache.
	AllDocuments func(ctx context.Context) error
	// Jobs applies the job schedules and pauses saved in the store.
	Jobs func(ctx context.Context)
}

// Follow joins the other replicas' control messages and keeps this replica current: a channel's
// documents when another replica built it, the job settings when one changed them, and
// everything after a reconnect, when messages may have been missed. Failures are logged; the
// next message or reconnect tries again.
func (c *Control) Follow(r Reloads) error {
	return c.Join(map[string]func(string){
		KindDocuments: func(slug string) {
			ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
			defer cancel()
			c.reloadDocuments(ctx, r, slug)
		},
		KindJobs: func(string) {
			ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
			defer cancel()
			r.Jobs(ctx)
		},
	}, func() {
		ctx, cancel := context.WithTimeout(context.Background(), reloadAllTimeout)
		defer cancel()
		if err := r.AllDocuments(ctx); err != nil {
			c.log.Error("reload documents after reconnecting", slog.Any("error", err))
		}
		r.Jobs(ctx)
	})
}

// reloadDocuments serves a channel's documents as another replica's build saved them.
func (c *Control) reloadDocuments(ctx context.Context, r Reloads, slug string) {
	for _, f := range syndicate.Formats {
		doc, err := r.Store.Document(ctx, slug, f)
		if err == nil {
			err = r.Cache.Put(doc)
		}
		if err != nil {
			c.log.Error("reload a document saved by another replica", slog.String("channel", slug), slog.String("format", f), slog.Any("error", err))
		}
	}
}
