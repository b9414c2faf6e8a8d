package relay

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/publisher"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// TestEmbeddedStoreDirHeldByOneServer replays the lost resent dead letters QA found in
// /tmp/qa/data: a second service on the same data dir (its embedded server moved to another port)
// shared the SQLite outbox and the JetStream store directory with the first. Its relay published a
// row, its server acked it under a stream sequence the first server had already used, and the row
// was marked sent while the first server's stream never held it. A second embedded server on the
// directory must be refused; once the first stops, the directory is free again and nothing is lost.
func TestEmbeddedStoreDirHeldByOneServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stream, prefix := natstest.Names()
	opts := publisher.Options{Stream: stream, SubjectPrefix: prefix, StoreDir: t.TempDir(), Listen: "127.0.0.1:-1",
		User: "syndicate", Password: "test-password"}

	first, err := publisher.Start(ctx, opts, natstest.Log(t))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close(ctx)
	gen := newEventGen(first.Options())
	rows := gen.rows(t, 1, 4)
	commit := func(evs ...syndicate.OutboxRow) {
		t.Helper()
		if err := db.CommitBuild(ctx, store.Build{Channel: evs[0].Channel, Events: evs}); err != nil {
			t.Fatal(err)
		}
	}
	flush := func(r *Relay) {
		t.Helper()
		if err := r.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	relayFirst := New(first.JetStream(), db, Options{Stream: opts.Stream}, natstest.Log(t))
	commit(rows[:2]...)
	flush(relayFirst)

	second, err := publisher.Start(ctx, opts, natstest.Log(t))
	if err == nil {
		defer second.Close(ctx)
		t.Errorf("a second embedded server started on the store directory %s in use", opts.StoreDir)
		// What happened in QA: each relay publishes one row to its own server.
		relaySecond := New(second.JetStream(), db, Options{Stream: opts.Stream}, natstest.Log(t))
		commit(rows[2])
		flush(relayFirst)
		commit(rows[3])
		flush(relaySecond)
		if pending, _, err := db.OutboxStats(ctx); err != nil || pending != 0 {
			t.Fatalf("outbox pending = %d, %v", pending, err)
		}
		var ids []string
		for _, m := range readStream(t, first.JetStream(), opts.Stream) {
			ids = append(ids, m.MsgID)
		}
		if want := []string{rows[0].EventID, rows[1].EventID, rows[2].EventID, rows[3].EventID}; !slices.Equal(ids, want) {
			t.Fatalf("every row is marked sent, but the service's stream holds %v, want %v", ids, want)
		}
		return
	}
	if !errors.Is(err, publisher.ErrStoreDirInUse) {
		t.Fatalf("second Start: %v, want ErrStoreDirInUse", err)
	}

	// The first service stops; a new one on the same directory takes over and loses nothing.
	if err := first.Close(ctx); err != nil {
		t.Fatal(err)
	}
	second, err = publisher.Start(ctx, opts, natstest.Log(t))
	if err != nil {
		t.Fatalf("Start after the first server stopped: %v", err)
	}
	defer second.Close(ctx)
	commit(rows[2:]...)
	flush(New(second.JetStream(), db, Options{Stream: opts.Stream}, natstest.Log(t)))
	checkExactlyOnce(t, readStream(t, second.JetStream(), opts.Stream), gen)
}
