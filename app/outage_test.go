package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

const natsServerBin = "/usr/sbin/nats-server"

// natsProcess runs an external nats-server with JetStream on port, storing in dir, until stopped.
func natsProcess(t *testing.T, port int, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(natsServerBin, "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", dir)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nats-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	testwait.For(t, "nats-server to listen", func() bool {
		c, err := net.Dial("tcp", fmt.Sprint("127.0.0.1:", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return cmd
}

// feedTitles returns the titles of the items the service serves in lingling's Atom feed.
func feedTitles(t *testing.T, base string) map[string]bool {
	t.Helper()
	resp, err := http.Get(base + "/feeds/lingling.atom")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]bool{}
	if resp.StatusCode != http.StatusOK {
		return out
	}
	body, _ := io.ReadAll(resp.Body)
	f, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatalf("gofeed: %v", err)
	}
	for _, it := range f.Items {
		out[it.Title] = true
	}
	return out
}

// An external NATS killed for longer than several ticks: builds go on and feeds change meanwhile,
// POST /run works, and once the server is back every event is in the stream exactly once.
func TestBuildsGoOnThroughANATSOutage(t *testing.T) {
	if _, err := os.Stat(natsServerBin); err != nil {
		t.Skipf("%s not found: external NATS outage test skipped", natsServerBin)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	natsDir := t.TempDir()
	srv := natsProcess(t, port, natsDir)

	// The shared store when there is one (leases in play), else SQLite.
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "syndicate.db")
	if os.Getenv(postgrestest.EnvDSN) != "" {
		dsn = postgrestest.Schema(t, postgrestest.DSN(t))
	}
	cfgFile := filepath.Join(dir, "outage.yaml")
	if err := os.WriteFile(cfgFile, []byte(`
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 1s"}
defaults: {schedule: "@hourly"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile, []string{
		"SYNDICATE_DATA_DIR=" + filepath.Join(dir, "data"), "SYNDICATE_STORE_DSN=" + dsn,
		fmt.Sprintf("SYNDICATE_NATS_URL=nats://127.0.0.1:%d", port), "SYNDICATE_HTTP_ADDR=127.0.0.1:0",
		"SYNDICATE_DEMO=false", "SYNDICATE_ADMIN_TOKEN=" + token,
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	addr, err := a.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()
	ctx := context.Background()
	post := func(id string, n int) string {
		art := storetest.Article(id, n, "lingling")
		if _, err := a.Store.UpsertArticle(ctx, art); err != nil {
			t.Fatal(err)
		}
		return art.Title
	}
	before := post("before", 0)
	testwait.For(t, "the first article in the feed", func() bool { return feedTitles(t, base)[before] })
	// Its event too, so that what the outbox holds during the outage is only what was posted then.
	// An empty outbox is not enough: a build that read the channel's changes just before the
	// article was stored renders it and leaves its event to the next build.
	testwait.For(t, "the first article's event in the stream", func() bool {
		n, _, err := a.Store.OutboxStats(ctx)
		return err == nil && n == 0 && len(streamMessages(t, a)) > 0
	})

	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	down := time.Now()
	var during []string
	for i := range 3 {
		during = append(during, post(fmt.Sprint("during", i), 10+i))
	}
	testwait.For(t, "articles posted during the outage in the feed", func() bool {
		got := feedTitles(t, base)
		for _, title := range during {
			if !got[title] {
				return false
			}
		}
		return true
	})
	code := whileBusy(t, "POST /run between ticks", func() int {
		return apiCall(t, http.MethodPost, base+"/api/jobs/build:lingling/run?wait=30s", "")
	})
	if code != http.StatusOK {
		t.Errorf("POST /run during the outage: %d, want 200", code)
	}
	// The outage outlasts several ticks: builds ran through it, not just before it.
	st, _ := a.Scheduler.Status("build:lingling")
	testwait.For(t, "two more ticks during the outage", func() bool {
		now, _ := a.Scheduler.Status("build:lingling")
		return now.Runs >= st.Runs+2
	})
	if pending, _, err := a.Store.OutboxStats(ctx); err != nil || pending != 3 {
		t.Errorf("outbox holds %d pending events during the outage (%v), want the 3 posted meanwhile", pending, err)
	}
	t.Logf("NATS down for %v", time.Since(down).Round(time.Millisecond))

	natsProcess(t, port, natsDir)
	testwait.For(t, "the outbox to drain after NATS is back", func() bool {
		n, _, err := a.Store.OutboxStats(ctx)
		return err == nil && n == 0
	})
	ids := map[string]int{}
	for _, evs := range streamMessages(t, a) {
		for _, ev := range evs {
			ids[ev.Data.ArticleID]++
		}
	}
	if len(ids) != 4 {
		t.Errorf("events for %d articles, want 4: %v", len(ids), ids)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("article %s announced %d times", id, n)
		}
	}
}

// Replicas miss each other's notifications while NATS is down; once it is back each rereads the
// store, so a feed another replica rebuilt and a schedule it changed meanwhile reach it.
func TestReplicasCatchUpAfterANATSOutage(t *testing.T) {
	if _, err := os.Stat(natsServerBin); err != nil {
		t.Skipf("%s not found: external NATS outage test skipped", natsServerBin)
	}
	postgrestest.DSN(t) // two replicas share a PostgreSQL store, or the test skips
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	natsDir := t.TempDir()
	srv := natsProcess(t, port, natsDir)
	c := newReplicaSet(t, fmt.Sprintf("nats://127.0.0.1:%d", port), `
channels:
  - {slug: lingling, title: 零陵, schedule: "@hourly"}
`)
	var as []*app.App
	var bases []string
	for i := range 2 {
		a, err := c.open(i)
		if err != nil {
			t.Fatal(err)
		}
		addr, err := a.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		as, bases = append(as, a), append(bases, "http://"+addr.String())
	}
	ctx := context.Background()
	art := storetest.Article("outage", 1, "lingling")
	if _, err := as[0].Store.UpsertArticle(ctx, art); err != nil {
		t.Fatal(err)
	}

	if err := srv.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	testwait.For(t, "both replicas to notice the outage", func() bool {
		return !as[0].NATS.NATS().IsConnected() && !as[1].NATS.NATS().IsConnected()
	})
	if _, err := as[0].Builder.Build(ctx, "lingling"); err != nil {
		t.Fatal(err)
	}
	if code := apiCall(t, http.MethodPut, bases[0]+"/api/jobs/build:lingling", `{"schedule":"@every 7m"}`); code != http.StatusOK {
		t.Fatalf("PUT schedule during the outage: %d", code)
	}
	if !feedTitles(t, bases[0])[art.Title] {
		t.Fatal("the replica that built does not serve its own build")
	}
	if feedTitles(t, bases[1])[art.Title] {
		t.Fatal("the other replica heard of the build during the outage; the test proves nothing")
	}

	natsProcess(t, port, natsDir)
	testwait.For(t, "the other replica to serve the build made during the outage", func() bool {
		return feedTitles(t, bases[1])[art.Title]
	})
	testwait.For(t, "the other replica to apply the schedule changed during the outage", func() bool {
		st, _ := as[1].Scheduler.Status("build:lingling")
		return st.Spec == "@every 7m"
	})
}

// A replica started before its NATS cluster is reachable keeps retrying and comes up when it is.
func TestStartWaitsForNATS(t *testing.T) {
	if _, err := os.Stat(natsServerBin); err != nil {
		t.Skipf("%s not found: external NATS start-up test skipped", natsServerBin)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir := t.TempDir()
	cfg, err := config.Load("", []string{
		"SYNDICATE_DATA_DIR=" + dir, "SYNDICATE_STORE_DSN=sqlite:" + filepath.Join(dir, "syndicate.db"),
		fmt.Sprintf("SYNDICATE_NATS_URL=nats://127.0.0.1:%d", port), "SYNDICATE_HTTP_ADDR=127.0.0.1:0",
		"SYNDICATE_DEMO=false", "SYNDICATE_ADMIN_TOKEN=" + token,
	})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		a   *app.App
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		done <- result{a, err}
	}()
	select {
	case r := <-done:
		t.Fatalf("start-up ended before NATS was up: %v", r.err)
	case <-time.After(time.Second): // start-up is still retrying
	}
	natsProcess(t, port, t.TempDir())
	r := <-done
	if r.err != nil {
		t.Fatalf("start-up after NATS came up: %v", r.err)
	}
	r.a.Close(context.Background())
}
