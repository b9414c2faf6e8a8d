package cluster_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/natstest"
)

// A replica hears the others' announcements on its handlers and never its own.
func TestControlMessages(t *testing.T) {
	url := natstest.Start(t, "").ClientURL()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	join := func(replica string) (*cluster.Control, chan string) {
		nc, _ := natstest.Connect(t, url)
		c := cluster.NewControl(nc, "yongzhou", replica, log)
		got := make(chan string, 10)
		if err := c.Join(map[string]func(string){
			cluster.KindDocuments: func(s string) { got <- cluster.KindDocuments + " " + s },
			cluster.KindJobs:      func(s string) { got <- cluster.KindJobs + " " + s },
		}, func() {}); err != nil {
			t.Fatal(err)
		}
		if err := nc.Flush(); err != nil { // the subscriptions are in place at the server
			t.Fatal(err)
		}
		return c, got
	}
	a, gotA := join("a")
	b, gotB := join("b")
	if s := a.Subject(cluster.KindJobs); s != "yongzhou.control.jobs" {
		t.Errorf("subject = %q", s)
	}

	b.Announce(cluster.KindDocuments, "lingling")
	if m := receive(t, gotA); m != "documents lingling" {
		t.Fatalf("a heard %q", m)
	}
	// b's own message reached b's subscription before a's answer did (one subscription, in order),
	// so the first thing b hears shows whether it heard itself.
	a.Announce(cluster.KindJobs, "build:lingling")
	if m := receive(t, gotB); m != "jobs build:lingling" {
		t.Fatalf("b heard %q first, want only a's message", m)
	}
}

func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no control message within 10s")
		return ""
	}
}
