package hub

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/internal/testwait"
)

func docsHeld(h *Hub) map[feedRef]bool {
	h.docMu.Lock()
	defer h.docMu.Unlock()
	out := map[feedRef]bool{}
	for f := range h.docs {
		out[f] = true
	}
	return out
}

// The hub keeps in memory only the documents of feeds with deliveries to make, and of each only
// the body it sends: a document delivered to everyone, or of a feed that lost its subscribers,
// is forgotten.
func TestDocumentsOfFeedsWithWorkOnly(t *testing.T) {
	st := openSQLite(t)
	clk := &clock{t: time.Now()}
	o := fast(st, testTree(t))
	o.Now = clk.Now
	h, srv := startHub(t, o)
	local, sports := site.FeedURL("local", "atom"), site.FeedURL("sports", "atom")
	failing, healthy := newSubscriber(t), newSubscriber(t)
	var fail atomic.Bool
	fail.Store(true)
	failing.status = func(int) int {
		if fail.Load() {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}
	subscribe(t, srv.URL, failing.URL, local)
	subscribe(t, srv.URL, healthy.URL, sports)
	testwait.For(t, "two verified", func() bool { return count(h, "subscribe", "verified") == 2 })

	ld := commitDoc(t, st, "local", "atom", `<feed><title>零陵</title></feed>`)
	sd := commitDoc(t, st, "sports", "atom", `<feed><title>Sports</title></feed>`)
	rss := commitDoc(t, st, "local", "rss", `<rss/>`) // no subscriber: never kept
	h.Publish(ld, sd, rss)
	testwait.For(t, "sports delivered, local failed", func() bool {
		return len(healthy.deliveries()) == 1 && len(failing.deliveries()) == 1
	})
	if got := docsHeld(h); len(got) != 2 || !got[feedRef{"local", "atom"}] || !got[feedRef{"sports", "atom"}] {
		t.Fatalf("documents held %v, want local.atom and sports.atom", got)
	}

	// Time passes; local's retry comes due and uses its document again, sports' is used no more.
	clk.Add(2 * docIdle)
	testwait.For(t, "local retried", ticking(clk, func() bool { return len(failing.deliveries()) == 2 }))
	h.purgeOnce(context.Background())
	if got := docsHeld(h); len(got) != 1 || !got[feedRef{"local", "atom"}] {
		t.Errorf("after a sweep documents held %v, want local.atom alone (it has a delivery to make)", got)
	}

	// Local is delivered at last: the queue is empty, and nothing is kept.
	fail.Store(false)
	testwait.For(t, "local delivered", ticking(clk, func() bool { return len(failing.deliveries()) == 3 }))
	testwait.For(t, "queue drained", func() bool { d, _, _ := st.QueueStats(context.Background(), KindDistribute); return d == 0 })
	h.purgeOnce(context.Background())
	if got := docsHeld(h); len(got) != 0 {
		t.Errorf("with no delivery queued documents held %v, want none", got)
	}

	// A feed whose subscribers left is forgotten at its next change.
	h.Publish(commitDoc(t, st, "sports", "atom", `<feed><title>Sports 2</title></feed>`))
	testwait.For(t, "sports delivered again", func() bool { return len(healthy.deliveries()) == 2 })
	if !docsHeld(h)[feedRef{"sports", "atom"}] {
		t.Fatal("sports' document was not kept for its delivery")
	}
	if _, err := st.DeleteSubscription(context.Background(), healthy.URL, sports); err != nil {
		t.Fatal(err)
	}
	h.Publish(syndicate.Document{Channel: "sports", Format: "atom", Body: []byte("<feed/>"), ETag: syndicate.ETagOf([]byte("<feed/>"))})
	// The fan-out may have taken the change before Flush: wait for it rather than for Flush.
	testwait.For(t, "the document of a feed without subscribers forgotten", func() bool { h.Flush(); return !docsHeld(h)[feedRef{"sports", "atom"}] })
}

// ticking moves clk past the longest retry backoff of fast() each time cond does not hold yet. A
// failed attempt sets its retry from the clock after the subscriber has answered, so a single
// step taken as soon as the answer arrived could come before that and leave the retry never due.
func ticking(clk *clock, cond func() bool) func() bool {
	return func() bool {
		if cond() {
			return true
		}
		clk.Add(50 * time.Millisecond)
		return false
	}
}
