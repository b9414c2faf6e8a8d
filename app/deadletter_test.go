package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// The README's dead-letter story, end to end in one running service: an event above the stream's
// max_msg_size is parked; the operator raises the limit and resends it (what `syndicate events
// resend` does to the store), and the running relay publishes it at its next pass.
func TestDeadLetterResentByRunningService(t *testing.T) {
	a, base := startService(t, t.TempDir(), `
channels:
  - {slug: lingling, title: 零陵, schedule: "@yearly"}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	js, stream := a.NATS.JetStream(), a.Config.NATS.Stream
	setMaxMsgSize := func(size int32) {
		t.Helper()
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		cfg := s.CachedInfo().Config
		cfg.MaxMsgSize = size
		if _, err := js.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	msgs := func() uint64 {
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().State.Msgs
	}
	post := func(id string) {
		t.Helper()
		body := `{"id": "` + id + `", "title": "死信测试", "summary": "x", "channels": ["lingling"], "published_at": "2026-11-30T11:00:00+08:00"}`
		if code := api(t, "POST", base+"/api/articles", token, body, nil); code != http.StatusCreated {
			t.Fatalf("POST %s: %d", id, code)
		}
		if code := api(t, "POST", base+"/api/jobs/build:lingling/run?wait=30s", token, "", nil); code != http.StatusOK {
			t.Fatalf("run build: %d", code)
		}
	}

	testwait.For(t, "the first build", func() bool {
		st, _ := a.Scheduler.Status("build:lingling")
		return st.Runs >= 1 && !st.Running
	})
	post("small-1")
	testwait.For(t, "the first event", func() bool { return msgs() == 1 })
	setMaxMsgSize(500)
	post("dead-1")
	testwait.For(t, "the dead letter", func() bool {
		_, n, err := a.Store.DeadLetters(ctx, 10)
		return err == nil && n == 1
	})
	// The relay goes on polling meanwhile, as in a service that runs for a while.
	passes := a.Relay.Stats().Passes
	testwait.For(t, "two more relay passes", func() bool { return a.Relay.Stats().Passes >= passes+2 })

	setMaxMsgSize(-1)
	dead, _, err := a.Store.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := a.Store.ResendDead(ctx, []int64{dead[0].Seq}); err != nil || n != 1 {
		t.Fatalf("ResendDead = %d, %v", n, err)
	}
	testwait.For(t, "the resent event in the stream", func() bool { return msgs() == 2 })
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if id := m.Header.Get(jetstream.MsgIDHeader); id != dead[0].EventID {
		t.Errorf("stream message 2 is %s, want the resent %s", id, dead[0].EventID)
	}
}
