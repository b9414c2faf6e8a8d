package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/schedule"

	_ "modernc.org/sqlite" // the test edits the SQLite store directly
)

// startService starts a full service (schedules running) on dir with the config file text.
func startService(t *testing.T, dir, cfgText string, env ...string) (*app.App, string) {
	t.Helper()
	cfgFile := filepath.Join(dir, "syndicate.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	env = append([]string{"SYNDICATE_DATA_DIR=" + dir, "SYNDICATE_NATS_LISTEN=", "SYNDICATE_DEMO=false",
		"SYNDICATE_HTTP_ADDR=127.0.0.1:0", "SYNDICATE_ADMIN_TOKEN=" + token + ",second-token"}, env...)
	cfg, err := config.Load(cfgFile, env)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr, err := a.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return a, "http://" + addr.String()
}

func api(t *testing.T, method, url, tok, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

const jobsConfig = `
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 1s"}
defaults: {schedule: "@hourly"}
`

func TestJobsAPI(t *testing.T) {
	dir := t.TempDir()
	_, base := startService(t, dir, `
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 1s"}
  - {slug: qiyang, title: 祁阳, schedule: "@every 1s"}
defaults: {schedule: "@hourly"}
`)
	job := base + "/api/jobs/build:lingling"

	if code := api(t, "GET", base+"/api/jobs", "", "", nil); code != 401 {
		t.Errorf("GET /api/jobs without token: %d", code)
	}
	var list []schedule.Status
	for _, tok := range []string{token, "second-token"} {
		if code := api(t, "GET", base+"/api/jobs", tok, "", &list); code != 200 {
			t.Fatalf("GET /api/jobs with %s: %d", tok, code)
		}
	}
	if len(list) != 3 { // build:lingling, build:qiyang and build:all
		t.Errorf("%d jobs listed", len(list))
	}
	// The @every 1s job runs on its own.
	var st schedule.Status
	testwait.For(t, "scheduled runs", func() bool {
		api(t, "GET", job, token, "", &st)
		return st.Runs >= 2 && st.Previous != nil && st.LastStatus == "ok"
	})

	if code := api(t, "PUT", job, token, `{"schedule":"@every 2s"}`, &st); code != 200 || st.Spec != "@every 2s" || time.Until(st.Next) > 2*time.Second {
		t.Fatalf("PUT @every 2s: %d %+v", code, st)
	}
	before := st.Runs
	if code := api(t, "PUT", job, token, `{"schedule":"every two seconds"}`, nil); code != 400 {
		t.Errorf("invalid spec: %d, want 400", code)
	}
	api(t, "GET", job, token, "", &st)
	if st.Spec != "@every 2s" {
		t.Errorf("invalid PUT changed the spec to %q", st.Spec)
	}
	testwait.For(t, "runs on the kept schedule", func() bool { api(t, "GET", job, token, "", &st); return st.Runs > before })

	if code := api(t, "POST", job+"/pause", token, "", &st); code != 200 || !st.Paused {
		t.Fatalf("pause: %d %+v", code, st)
	}
	testwait.For(t, "a run already started to finish", func() bool { api(t, "GET", job, token, "", &st); return !st.Running })
	paused := st.Runs
	// qiyang's @every 1s job is the clock: once it has run three more times, at least one of
	// lingling's @every 2s ticks has come and gone while paused.
	var clock schedule.Status
	api(t, "GET", base+"/api/jobs/build:qiyang", token, "", &clock)
	from := clock.Runs
	testwait.For(t, "three ticks of build:qiyang", func() bool {
		api(t, "GET", base+"/api/jobs/build:qiyang", token, "", &clock)
		return clock.Runs >= from+3
	})
	api(t, "GET", job, token, "", &st)
	if st.Runs != paused {
		t.Errorf("paused job ran: %d → %d", paused, st.Runs)
	}
	var run schedule.Run
	if code := api(t, "POST", job+"/run?wait=50s", token, "", &run); code != 200 || run.Status != "ok" || run.Trigger != "manual" {
		t.Errorf("run now: %d %+v", code, run)
	}
	if code := api(t, "POST", job+"/resume", token, "", &st); code != 200 || st.Paused {
		t.Fatalf("resume: %d", code)
	}
	testwait.For(t, "runs after resume", func() bool { api(t, "GET", job, token, "", &st); return st.Runs > paused+1 })
	if code := api(t, "GET", base+"/api/jobs/build:mars", token, "", nil); code != 404 {
		t.Errorf("unknown job: %d", code)
	}

	// /metrics exposes the job series.
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`syndicate_job_runs_total{job="build:lingling",status="ok"}`, `syndicate_job_duration_seconds_bucket{job="build:lingling"`, "syndicate_outbox_pending_rows", "syndicate_http_requests_total",
		"syndicate_relay_published_total", "syndicate_relay_lag_seconds", "syndicate_relay_refused_total", "syndicate_relay_conflicts_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestScheduleChangesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	a, base := startService(t, dir, jobsConfig)
	if code := api(t, "PUT", base+"/api/jobs/build:lingling", token, `{"schedule":"@every 5m"}`, nil); code != 200 {
		t.Fatalf("PUT: %d", code)
	}
	if code := api(t, "POST", base+"/api/jobs/build:all/pause", token, "", nil); code != 200 {
		t.Fatalf("pause: %d", code)
	}
	a.Close(context.Background())

	b, _ := startService(t, dir, jobsConfig)
	st, _ := b.Scheduler.Status("build:lingling")
	if st.Spec != "@every 5m" {
		t.Errorf("after restart build:lingling runs %q, want the saved @every 5m over the configured @every 1s", st.Spec)
	}
	if all, _ := b.Scheduler.Status("build:all"); !all.Paused {
		t.Error("pause did not survive the restart")
	}
}

// After downtime a build whose scheduled tick passed without a run runs once at start-up; one
// that ran after its last tick does not.
func TestCatchUpAfterDowntime(t *testing.T) {
	dir := t.TempDir()
	cfg := `
channels:
  - {slug: lingling, title: 零陵, schedule: "0 * * * *"}
  - {slug: qiyang, title: 祁阳, schedule: "0 * * * *"}
defaults: {schedule: "@yearly"}
`
	a, _ := startService(t, dir, cfg)
	testwait.For(t, "first builds", func() bool {
		st, _ := a.Scheduler.Status("build:qiyang")
		return st.Runs == 1
	})
	a.Close(context.Background())

	// As if the service stopped: 零陵 last ran three hours ago (ticks were missed), 祁阳 just now.
	// A saved run never moves a job's last run back, so the test rewrites the rows directly.
	states := map[string]time.Time{"build:lingling": time.Now().Add(-3 * time.Hour), "build:qiyang": time.Now()}
	db, err := sql.Open("sqlite", filepath.Join(dir, "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	for name, at := range states {
		if _, err := db.Exec(`UPDATE jobs SET last_run = ? WHERE name = ?`, at.UnixMicro(), name); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	b, _ := startService(t, dir, cfg)
	testwait.For(t, "the catch-up run", func() bool {
		st, _ := b.Scheduler.Status("build:lingling")
		return st.Runs == 1
	})
	// A catch-up that ran once per missed tick would start its next run as this one ends, so
	// the job must be idle with one run, not between runs.
	testwait.For(t, "the catch-up run to end", func() bool {
		st, _ := b.Scheduler.Status("build:lingling")
		return !st.Running && st.Current == nil
	})
	if st, _ := b.Scheduler.Status("build:lingling"); st.Runs != 1 {
		t.Errorf("build:lingling ran %d times at start-up, want once (not once per missed tick)", st.Runs)
	}
	if st, _ := b.Scheduler.Status("build:qiyang"); st.Runs != 0 {
		t.Errorf("build:qiyang ran %d times at start-up; it missed no tick", st.Runs)
	}
}
