package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
)

// dotCounter is the progress writer: it says when the CLI printed its third dot.
type dotCounter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	third chan struct{}
}

func (d *dotCounter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.buf.Write(p)
	if string(p) == "." && strings.Count(d.buf.String(), ".") == 3 {
		close(d.third)
	}
	return len(p), nil
}

// `syndicate jobs run` waits for a long run by polling, with a dot per poll, and prints the
// outcome; a failed run exits 1 naming the error; --detach returns with the running run.
func TestJobsRunWaitsForTheOutcome(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken.xml" {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>up</title><link>http://up.example/</link><description>d</description>
<item><title>一</title><link>http://up.example/1</link><guid>http://up.example/1</guid><pubDate>Mon, 30 Nov 2026 08:00:00 +0800</pubDate></item>
</channel></rss>`)
	}))
	defer upstream.Close()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "syndicate.yaml")
	os.WriteFile(cfgFile, []byte(`
channels:
  - {slug: lingling, title: 零陵, schedule: "@yearly"}
defaults: {schedule: "@yearly"}
ingest: {allow_private: true} # the upstream is a test server on loopback
sources:
  - {name: slow, url: "`+upstream.URL+`/slow.xml", channels: [lingling], schedule: "@yearly"}
  - {name: broken, url: "`+upstream.URL+`/broken.xml", channels: [lingling], schedule: "@yearly"}
`), 0o600)
	cfg, err := config.Load(cfgFile, []string{"SYNDICATE_DATA_DIR=" + dir, "SYNDICATE_NATS_LISTEN=", "SYNDICATE_DEMO=false",
		"SYNDICATE_HTTP_ADDR=127.0.0.1:0", "SYNDICATE_ADMIN_TOKEN=tok"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	addr, err := a.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr.String()

	cl := &apiClient{base: base, token: "tok", http: http.DefaultClient, runWait: 50 * time.Millisecond, pollEvery: 20 * time.Millisecond}
	progress := &dotCounter{third: make(chan struct{})}
	go func() { <-progress.third; free() }()
	r, err := cl.run(context.Background(), "ingest:slow", false, progress)
	if err != nil || r.Status != "ok" || r.Count != 1 || r.ID == "" {
		t.Fatalf("jobs run ingest:slow = %+v, %v", r, err)
	}
	if p := progress.buf.String(); !strings.HasPrefix(p, "...") || !strings.HasSuffix(p, "\n") {
		t.Errorf("progress %q, want dots and a line end", p)
	}

	var out, errOut bytes.Buffer
	flags := []string{"--config", cfgFile, "--url", base, "--token", "tok"}
	if code := run(context.Background(), append([]string{"jobs", "run", "ingest:broken"}, flags...), nil, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "failed") || !strings.Contains(out.String(), `"status": "failed"`) {
		t.Errorf("jobs run of a failing job: exit %d, stdout %s, stderr %s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), append([]string{"jobs", "run", "--detach", "ingest:broken"}, flags...), nil, &out, &errOut); code != 0 {
		t.Fatalf("jobs run --detach: exit %d: %s", code, errOut.String())
	}
	var started runAnswer
	if err := json.Unmarshal(out.Bytes(), &started); err != nil || started.ID == "" || started.URL == "" {
		t.Errorf("jobs run --detach printed %s: %v", out.String(), err)
	}
}
