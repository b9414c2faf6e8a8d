package app_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/schedule"
)

// A hostile or broken upstream fails its own job, clearly, and nothing else.
func TestHostileSourcesFailTheirJobOnly(t *testing.T) {
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>`+
			`<item><title>好</title><guid>good</guid><pubDate>Wed, 16 Nov 2022 08:00:00 +0800</pubDate></item>`+
			`<item><title>万年</title><guid>y9999</guid><pubDate>Fri, 31 Dec 9999 23:59:59 -0500</pubDate></item>`+
			`</channel></rss>`)
	}))
	defer local.Close()
	sources := `
channels:
  - {slug: lingling, title: 零陵}
sources:
  - {name: metadata, url: "http://169.254.169.254/latest/meta-data/", channels: [lingling], schedule: "@hourly"}
  - {name: local, url: "` + local.URL + `", channels: [lingling], schedule: "@hourly"}
`
	ctx := context.Background()
	a, base := startService(t, t.TempDir(), sources)
	for _, tc := range []struct{ source, want string }{
		{"metadata", "upstream address 169.254.169.254 refused: link-local address; set ingest.allow_private to allow"},
		{"local", "upstream address 127.0.0.1 refused: loopback address; set ingest.allow_private to allow"},
	} {
		run, err := a.Scheduler.RunNow(ctx, app.IngestJobName(tc.source))
		if err != nil || run.Status != "failed" || !strings.Contains(run.Error, tc.want) {
			t.Errorf("%s: run %+v, %v; want failed with %q", tc.source, run, err, tc.want)
		}
		// The next poll backs off, and its history entry still names the cause.
		run, _ = a.Scheduler.RunNow(ctx, app.IngestJobName(tc.source))
		if !strings.Contains(run.Error, "backing off") || !strings.Contains(run.Error, "first error at") || !strings.Contains(run.Error, tc.want) {
			t.Errorf("%s: second run error %q", tc.source, run.Error)
		}
		var st schedule.Status
		if code := api(t, "GET", base+"/api/jobs/"+app.IngestJobName(tc.source), token, "", &st); code != 200 || len(st.History) != 2 || st.Panics != 0 {
			t.Errorf("%s: GET job = %d %+v", tc.source, code, st)
		}
	}
	if resp, err := http.Get(base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("service after hostile polls: %v", err)
	}

	// Allowed, the local source's feed is stored whole, its year-9999 item clamped.
	b, _ := startService(t, t.TempDir(), "ingest: {allow_private: true}\n"+sources)
	run, err := b.Scheduler.RunNow(ctx, app.IngestJobName("local"))
	if err != nil || run.Status != "ok" || run.Count != 2 {
		t.Fatalf("allowed local source: %+v, %v", run, err)
	}
}
