package hub

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// The database going away while changes wait to be fanned out loses no delivery: the hub keeps
// what the store refused and queues it once the store is back (sports), and a document published
// during the outage replaces the older one of its topic (local). Two outages of real stores: the
// link to PostgreSQL cut, as a network failure or a database restart would (the subscriber read
// fails), and SQLite refusing writes to the queue (the queue write fails).
func TestStoreOutageLosesNoDelivery(t *testing.T) {
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (st store.Store, down, up func())
	}{
		{"postgres link cut", func(t *testing.T) (store.Store, func(), func()) {
			st, link := postgrestest.OpenProxied(t)
			return st, link.Cut, link.Restore
		}},
		{"sqlite queue writes refused", func(t *testing.T) (store.Store, func(), func()) {
			path := filepath.Join(t.TempDir(), "hub.db")
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			exec := func(q string) {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			return st, func() {
					exec(`CREATE TRIGGER refuse BEFORE INSERT ON websub_queue BEGIN SELECT RAISE(ABORT, 'queue writes refused'); END`)
				}, func() {
					exec(`DROP TRIGGER refuse`)
				}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, down, up := tc.open(t)
			testOutage(t, st, down, up)
		})
	}
}

func testOutage(t *testing.T, st store.Store, down, up func()) {
	h, srv := startHub(t, fast(st, testTree(t)))
	sub := newSubscriber(t)
	subscribe(t, srv.URL, sub.URL, site.FeedURL("local", "atom"))
	subscribe(t, srv.URL, sub.URL, site.FeedURL("sports", "atom"))
	testwait.For(t, "the subscriptions verified", func() bool { return count(h, "subscribe", "verified") == 2 })
	older := commitDoc(t, st, "local", "atom", `<feed xmlns="http://www.w3.org/2005/Atom"><title>一</title></feed>`)
	newer := commitDoc(t, st, "local", "atom", `<feed xmlns="http://www.w3.org/2005/Atom"><title>零陵</title></feed>`)
	sports := commitDoc(t, st, "sports", "atom", `<feed xmlns="http://www.w3.org/2005/Atom"><title>体育</title></feed>`)

	down()
	h.Publish(older, sports)
	if err := h.Flush(); err == nil {
		t.Fatal("Flush with the database link cut returned no error")
	}
	h.Publish(newer)
	up()

	testwait.For(t, "both topics delivered", func() bool { return len(sub.deliveries()) >= 2 })
	if err := h.Flush(); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "queue drained", func() bool {
		d, _, err := st.QueueStats(context.Background(), KindDistribute)
		return err == nil && d == 0
	})
	var bodies []string
	for _, d := range sub.deliveries() {
		bodies = append(bodies, string(d.body))
	}
	slices.Sort(bodies)
	want := []string{string(newer.Body), string(sports.Body)}
	slices.Sort(want)
	if !slices.Equal(bodies, want) {
		t.Errorf("delivered %q, want each topic's newest document once: %q", bodies, want)
	}
}
