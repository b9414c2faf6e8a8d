package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// A WebSub hub hears about every feed a build changed, once, and nothing for an unchanged rebuild;
// feeds advertise the hub in the document and in Link headers, and /metrics shows the queue.
func TestWebSubNotifications(t *testing.T) {
	var mu sync.Mutex
	var topics []string
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("hub.mode") != "publish" {
			http.Error(w, "bad mode", 400)
			return
		}
		mu.Lock()
		topics = append(topics, r.FormValue("hub.url"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer hub.Close()
	a, srv := newApp(t, "SYNDICATE_WEBSUB_HUBS="+hub.URL)
	// newApp leaves the service unstarted (Start would also run catch-up builds of every
	// channel); the notifier is the one part this test needs running.
	a.WebSub.Start()

	if code, _ := post(t, srv, token, fixture(t)); code != 201 {
		t.Fatal("POST fixture")
	}
	build(t, a, "lingling")
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(topics)
		slices.Sort(out)
		return out
	}
	want := []string{a.Site.FeedURL("lingling", "atom"), a.Site.FeedURL("lingling", "json"), a.Site.FeedURL("lingling", "rss")}
	testwait.For(t, "the hub heard of the three feeds", func() bool { return len(got()) >= 3 })
	if !slices.Equal(got(), want) {
		t.Fatalf("hub notified of %v, want %v", got(), want)
	}
	a.WebSub.Flush()
	testwait.For(t, "the queue is empty", func() bool { d, err := a.WebSub.Depth(context.Background()); return err == nil && d == 0 })

	build(t, a, "lingling")
	// Flush saved whatever the rebuild published: an empty queue means nothing more is coming.
	a.WebSub.Flush()
	if d, err := a.WebSub.Depth(context.Background()); err != nil || d != 0 {
		t.Errorf("unchanged rebuild queued %d notifications (%v)", d, err)
	}
	if n := len(got()); n != 3 {
		t.Errorf("unchanged rebuild notified the hub: %d notifications in all", n)
	}

	resp := get(t, srv.URL+"/feeds/lingling.atom")
	link := resp.Header.Get("Link")
	if !strings.Contains(link, "<"+hub.URL+`>; rel="hub"`) || !strings.Contains(link, `rel="self"`) {
		t.Errorf("Link header %q", link)
	}

	m := httptest.NewServer(a.Metrics.Handler())
	defer m.Close()
	body, _ := io.ReadAll(get(t, m.URL).Body)
	for _, want := range []string{"syndicate_websub_queue_depth 0",
		`syndicate_websub_notifications_total{hub="` + hub.URL + `",outcome="delivered"} 3`,
		`syndicate_websub_dropped_total{reason="attempts"} 0`, "syndicate_websub_attempt_duration_seconds_bucket"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
