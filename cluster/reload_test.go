package cluster_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// recorder is a replica's document cache and job settings, counting what Follow reloads.
type recorder struct {
	mu   sync.Mutex
	docs map[string]string // channel.format → ETag
	all  int               // AllDocuments calls
	jobs int               // Jobs calls
}

func (r *recorder) Put(docs ...syndicate.Document) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range docs {
		r.docs[d.Channel+"."+d.Format] = d.ETag
	}
	return nil
}

func (r *recorder) counts() (docs, all, jobs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.docs), r.all, r.jobs
}

// A following replica serves the documents another replica's build saved, applies the job
// settings another one changed, and rereads everything after reconnecting.
func TestFollowReloadsFromTheStore(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Restartable(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var docs []syndicate.Document
	for _, f := range syndicate.Formats {
		body := []byte("lingling " + f)
		docs = append(docs, syndicate.Document{Channel: "lingling", Format: f, Body: body, ETag: syndicate.ETagOf(body),
			Modified: time.Now().Truncate(time.Second)})
	}
	if err := db.CommitBuild(ctx, store.Build{Channel: "lingling", Documents: docs}); err != nil {
		t.Fatal(err)
	}

	ncA, _ := natstest.Connect(t, srv.URL)
	a := cluster.NewControl(ncA, "yongzhou", "a", log)
	ncB, _ := natstest.Connect(t, srv.URL)
	b := cluster.NewControl(ncB, "yongzhou", "b", log)
	rec := &recorder{docs: map[string]string{}}
	if err := b.Follow(cluster.Reloads{
		Store: db, Cache: rec,
		AllDocuments: func(context.Context) error { rec.mu.Lock(); rec.all++; rec.mu.Unlock(); return nil },
		Jobs:         func(context.Context) { rec.mu.Lock(); rec.jobs++; rec.mu.Unlock() },
	}); err != nil {
		t.Fatal(err)
	}
	if err := ncB.Flush(); err != nil { // the subscriptions are in place at the server
		t.Fatal(err)
	}

	a.Announce(cluster.KindDocuments, "lingling")
	testwait.For(t, "lingling's documents in b's cache", func() bool { n, _, _ := rec.counts(); return n == len(syndicate.Formats) })
	a.Announce(cluster.KindJobs, "build:lingling")
	testwait.For(t, "b to reload the job settings", func() bool { _, _, jobs := rec.counts(); return jobs == 1 })

	srv.Stop()
	srv.Start()
	testwait.For(t, "b to reread everything after reconnecting", func() bool {
		_, all, jobs := rec.counts()
		return all >= 1 && jobs >= 2
	})
}
