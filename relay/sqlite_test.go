package relay

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// TestRelaySQLiteOutbox relays the real SQLite store's outbox: rows committed by builds arrive
// once each, in channel order, and the store counts nothing pending afterwards.
func TestRelaySQLiteOutbox(t *testing.T) {
	url := natstest.URL(t)
	c := connect(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	gen := newEventGen(c.Options())
	commit := func(rows []syndicate.OutboxRow) {
		byChannel := map[string][]syndicate.OutboxRow{}
		for _, r := range rows {
			byChannel[r.Channel] = append(byChannel[r.Channel], r)
		}
		for ch, evs := range byChannel {
			if err := db.CommitBuild(ctx, store.Build{Channel: ch, Events: evs}); err != nil {
				t.Fatal(err)
			}
		}
	}
	commit(gen.rows(t, 5, 300))
	r := New(c.JetStream(), db, Options{Stream: c.Options().Stream, BatchSize: 128}, natstest.Log(t))
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	commit(gen.rows(t, 5, 50))
	if err := r.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	pending, _, err := db.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("store reports %d pending rows", pending)
	}
	checkExactlyOnce(t, readStream(t, c.JetStream(), c.Options().Stream), gen)
}
