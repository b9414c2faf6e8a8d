package app_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/internal/testwait"
)

type runAnswer struct {
	ID, Job, URL, Status, Trigger, Error string
	Count                                int
}

// A poll of a slow upstream answers 202 with the run's id at once instead of running into the
// write timeout; the run is read by id while it runs and after; ?wait= gives the outcome when
// the run ends in time.
func TestJobRunAnswersAtOnce(t *testing.T) {
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release: // a large upstream, slow to answer
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>up</title><link>http://up.example/</link><description>d</description>
<item><title>一</title><link>http://up.example/1</link><guid>http://up.example/1</guid><pubDate>Mon, 30 Nov 2026 08:00:00 +0800</pubDate></item>
</channel></rss>`))
	}))
	defer upstream.Close()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	_, base := startService(t, t.TempDir(), `
channels:
  - {slug: lingling, title: 零陵, schedule: "@yearly"}
defaults: {schedule: "@yearly"}
ingest: {allow_private: true} # the upstream is a test server on loopback
sources:
  - {name: slow, url: "`+upstream.URL+`/feed.xml", channels: [lingling], schedule: "@yearly"}
`)
	job := base + "/api/jobs/" + app.IngestJobName("slow")

	var started runAnswer
	start := time.Now()
	req, _ := http.NewRequest("POST", job+"/run", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || time.Since(start) > 5*time.Second {
		t.Fatalf("POST run: %d after %v; want 202 at once", resp.StatusCode, time.Since(start))
	}
	loc := resp.Header.Get("Location")
	if code := api(t, "GET", base+loc, token, "", &started); code != 200 || started.Status != "running" || started.ID == "" || started.URL != loc {
		t.Fatalf("GET %s: %d %+v; want the running run", loc, code, started)
	}
	if code := api(t, "POST", job+"/run?wait=100ms", token, "", nil); code != http.StatusConflict {
		t.Errorf("second run while one runs: %d, want 409", code)
	}
	if code := api(t, "POST", job+"/run?wait=forever", token, "", nil); code != http.StatusBadRequest {
		t.Errorf("?wait=forever: %d, want 400", code)
	}

	close(release)
	var done runAnswer
	testwait.For(t, "the run's outcome", func() bool {
		api(t, "GET", base+loc, token, "", &done)
		return done.Status != "running"
	})
	if done.ID != started.ID || done.Status != "ok" || done.Count != 1 || done.Trigger != "manual" {
		t.Errorf("outcome = %+v", done)
	}
	var st struct {
		History []runAnswer
	}
	if api(t, "GET", job, token, "", &st); len(st.History) != 1 || st.History[0].ID != started.ID || st.History[0].Status != "ok" {
		t.Errorf("history = %+v; want the run by its id", st.History)
	}

	// The upstream answers at once now: a wait long enough gives the outcome with 200.
	var waited runAnswer
	if code := api(t, "POST", job+"/run?wait=30s", token, "", &waited); code != http.StatusOK || waited.Status != "ok" || waited.ID == started.ID {
		t.Errorf("POST run?wait=30s: %d %+v; want 200 with a new run's outcome", code, waited)
	}
	if code := api(t, "GET", job+"/runs/no-such-run", token, "", nil); code != http.StatusNotFound {
		t.Errorf("unknown run id: %d, want 404", code)
	}
}
