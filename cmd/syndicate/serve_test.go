package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// lockedBuilder collects a child process's log lines on one goroutine for the test's to read.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) WriteString(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// What `make run` does, end to end, on the real binary: a fresh data dir, embedded SQLite and
// NATS, the demo story in the 零陵 feed, its events in the stream, a graceful SIGTERM.
func TestServeDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "syndicate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	httpAddr := freeAddr(t)
	// The configured NATS port is taken, as 4222 is on a machine that runs its own nats-server:
	// the service must start anyway, and events tail must still find it.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	natsAddr := taken.Addr().String()
	env := append(os.Environ(),
		"SYNDICATE_DATA_DIR="+filepath.Join(dir, "data"),
		"SYNDICATE_HTTP_ADDR="+httpAddr,
		"SYNDICATE_NATS_LISTEN="+natsAddr,
		"SYNDICATE_SITE_BASE_URL=http://"+httpAddr,
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv := exec.CommandContext(ctx, bin, "serve", "--log-format", "text")
	srv.Env = env
	logs, _ := srv.StderrPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	var logText lockedBuilder
	logDone := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			logText.WriteString(sc.Text() + "\n")
		}
		close(logDone)
	}()
	defer srv.Process.Kill()
	defer func() { // runs after a t.Fatal too, e.g. a wait that timed out
		if t.Failed() {
			t.Logf("service logs:\n%s", logText.String())
		}
	}()

	// The start-up build makes the feed available within seconds.
	var feed *gofeed.Feed
	client := &http.Client{Timeout: 5 * time.Second}
	testwait.For(t, "the 零陵 feed with the demo story", func() bool {
		resp, err := client.Get("http://" + httpAddr + "/feeds/lingling.atom")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
		feed, _ = gofeed.NewParser().Parse(resp.Body)
		return feed != nil && len(feed.Items) > 0
	})
	if !strings.Contains(feed.Items[0].Title, "零陵抗疫") {
		t.Errorf("demo story not in the feed: %q", feed.Items[0].Title)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "admin-token")); err != nil {
		t.Errorf("no generated admin token: %v", err)
	}

	// events tail reaches the embedded server on its loopback listener.
	var events []string
	testwait.For(t, "events tail to print the relayed events", func() bool {
		tail := exec.CommandContext(ctx, bin, "events", "tail")
		tail.Env = env
		out, err := tail.Output()
		if err != nil {
			t.Fatalf("events tail: %v", err)
		}
		events = nil
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" {
				events = append(events, line)
			}
		}
		return len(events) >= 2
	})
	if len(events) != 2 {
		t.Fatalf("events tail printed %d events, want 2 (零陵 and 重要新闻)", len(events))
	}
	for _, line := range events {
		var ev struct{ Type, Subject string }
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Type != syndicate.EventPublished {
			t.Errorf("event line %q: %v", line, err)
		}
	}

	// The operators' CLI drives the running service through its API with the saved token.
	jobs := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append([]string{"jobs"}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("jobs %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if list := jobs("list"); !strings.Contains(list, "NAME") || !strings.Contains(list, "build:lingling") || !strings.Contains(list, "*/10 * * * *") {
		t.Errorf("jobs list:\n%s", list)
	}
	if set := jobs("set", "build:lingling", "@every 2m"); !strings.Contains(set, `"schedule": "@every 2m"`) {
		t.Errorf("jobs set:\n%s", set)
	}
	if paused := jobs("pause", "build:lingling"); !strings.Contains(paused, `"paused": true`) {
		t.Errorf("jobs pause:\n%s", paused)
	}
	if run := jobs("run", "build:lingling"); !strings.Contains(run, `"status": "ok"`) {
		t.Errorf("jobs run:\n%s", run)
	}
	if show := jobs("show", "build:lingling", "--json"); !strings.Contains(show, `"history"`) {
		t.Errorf("jobs show --json:\n%s", show)
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-logDone
	if err := srv.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v\nlogs:\n%s", err, logText.String())
	}
	if !strings.Contains(logText.String(), "stopped") {
		t.Errorf("no clean stop in the logs:\n%s", logText.String())
	}
}
