package cluster

import (
	"context"
	"log/slog"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// ReconcileEvery is how often a replica on a shared store compares what it serves with the store.
// Control messages keep replicas current within milliseconds; this bounds how long one that missed
// a message (its builder died before announcing, it was cut off from NATS) or failed to act on it
// (the store did not answer the reread) serves an old document. The comparison reads ETags only:
// a few thousand short rows.
const ReconcileEvery = 15 * time.Second

// Served is what Reconcile compares and updates: the documents a replica serves.
type Served interface {
	ETag(channel, format string) string
	Put(docs ...syndicate.Document) error
}

// TagStore is what Reconcile reads of the store.
type TagStore interface {
	DocumentTags(ctx context.Context, fn func(channel, format, etag string)) error
	Document(ctx context.Context, channel, format string) (syndicate.Document, error)
}

// Reconcile rereads, every interval until ctx ends, each document whose ETag in the store differs
// from the one served, so that every replica serves the store's bytes whatever notices it missed.
func Reconcile(ctx context.Context, every time.Duration, st TagStore, served Served, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		reconcileOnce(ctx, st, served, log)
	}
}

func reconcileOnce(ctx context.Context, st TagStore, served Served, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, reloadAllTimeout)
	defer cancel()
	type key struct{ channel, format string }
	var stale []key
	err := st.DocumentTags(ctx, func(channel, format, etag string) {
		if served.ETag(channel, format) != etag {
			stale = append(stale, key{channel, format})
		}
	})
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("compare served documents with the store", slog.Any("error", err))
		}
		return
	}
	for _, k := range stale {
		doc, err := st.Document(ctx, k.channel, k.format)
		if err == nil {
			err = served.Put(doc)
		}
		if err != nil {
			log.Warn("reread a document that differs from the store's", slog.String("channel", k.channel), slog.String("format", k.format), slog.Any("error", err))
			continue
		}
		log.Info("served an out-of-date document; reread it from the store", slog.String("channel", k.channel), slog.String("format", k.format))
	}
}
