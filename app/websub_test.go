package app_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// A WebSub hub hears about every feed a build changed, once, and nothing for an unchanged rebuild;
// feeds advertise the hub in the document and in Link headers.
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

	if code, _ := post(t, srv, token, fixture(t)); code != 201 {
		t.Fatal("POST fixture")
	}
	build(t, a, "lingling")
	a.WebSub.Wait()
	got := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := slices.Clone(topics)
		slices.Sort(out)
		return out
	}
	want := []string{a.Site.FeedURL("lingling", "atom"), a.Site.FeedURL("lingling", "json"), a.Site.FeedURL("lingling", "rss")}
	if !slices.Equal(got(), want) {
		t.Fatalf("hub notified of %v, want %v", got(), want)
	}
	build(t, a, "lingling")
	a.WebSub.Wait()
	if n := len(got()); n != 3 {
		t.Errorf("unchanged rebuild notified the hub: %d notifications in all", n)
	}

	resp := get(t, srv.URL+"/feeds/lingling.atom")
	link := resp.Header.Get("Link")
	if !strings.Contains(link, "<"+hub.URL+`>; rel="hub"`) || !strings.Contains(link, `rel="self"`) {
		t.Errorf("Link header %q", link)
	}
}
