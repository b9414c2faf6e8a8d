package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/schedule"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
)

// runReply is the API's answer about a run.
type runReply struct {
	schedule.Run
	Job, URL string
}

// runOnce runs a job through the API and waits for its outcome; while a run is in progress (a
// tick, the start-up catch-up) it tries again.
func runOnce(t *testing.T, base, job string) runReply {
	t.Helper()
	var r runReply
	code := whileBusy(t, "a run of "+job, func() int {
		return api(t, "POST", base+"/api/jobs/"+job+"/run?wait=30s", token, "", &r)
	})
	if code != http.StatusOK || r.Status != "ok" {
		t.Fatalf("run %s: %d %+v", job, code, r)
	}
	return r
}

// whileBusy calls post, a POST /run, again while it answers 409 (a tick or the start-up catch-up
// is running the job), and returns its first other answer.
func whileBusy(t *testing.T, what string, post func() int) int {
	t.Helper()
	code := 0
	testwait.For(t, what, func() bool {
		code = post()
		return code != http.StatusConflict
	})
	return code
}

// Job history is in the store: a new process on the same SQLite file shows the runs of the one
// before, scheduled and manual, with their replica, and finds each by id.
func TestJobHistorySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := `
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 1s"}
defaults: {schedule: "@yearly"}
`
	a, base := startService(t, dir, cfg)
	manual := runOnce(t, base, "build:lingling")
	var before schedule.Status
	testwait.For(t, "a scheduled run in the history", func() bool {
		before = schedule.Status{}
		api(t, "GET", base+"/api/jobs/build:lingling", token, "", &before)
		return slices.ContainsFunc(before.History, func(r schedule.Run) bool { return r.Trigger == "schedule" && r.Status == "ok" })
	})
	first := a.Replica
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	b, base := startService(t, dir, strings.Replace(cfg, "@every 1s", "@yearly", 1))
	if b.Replica == first {
		t.Fatal("both processes have one replica id")
	}
	var after schedule.Status
	if code := api(t, "GET", base+"/api/jobs/build:lingling", token, "", &after); code != 200 {
		t.Fatalf("GET job after restart: %d", code)
	}
	if after.Runs != 0 {
		t.Errorf("runs = %d after restart: the counters are this process's", after.Runs)
	}
	ids := map[string]schedule.Run{}
	for _, r := range after.History {
		ids[r.ID] = r
	}
	// A run not yet written when before was read is shown from memory with nanoseconds; the store
	// keeps microseconds.
	for _, r := range before.History {
		got, ok := ids[r.ID]
		if !ok || got.Status != r.Status || got.Trigger != r.Trigger || got.Replica != first || got.Start.Sub(r.Start).Abs() >= time.Microsecond {
			t.Errorf("run %s before the restart %+v, after %+v (found %v)", r.ID, r, got, ok)
		}
	}
	if after.Previous == nil || after.LastStatus != "ok" {
		t.Errorf("previous run after restart: %v %q", after.Previous, after.LastStatus)
	}
	var got runReply
	if code := api(t, "GET", base+"/api/jobs/build:lingling/runs/"+manual.ID, token, "", &got); code != 200 || got.Status != "ok" || got.Trigger != "manual" {
		t.Errorf("GET the manual run after restart: %d %+v", code, got)
	}
}

// Two replicas on one PostgreSQL store show the same history: every run of either, scheduled
// ticks (one replica each, through the NATS leases) and manual runs, with where it ran.
func TestJobHistorySharedByReplicas(t *testing.T) {
	as := replicas(t, 2, `
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 1s"}
defaults: {schedule: "@yearly"}
`)
	var bases []string
	for _, a := range as {
		addr, err := a.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		bases = append(bases, "http://"+addr.String())
	}
	job := "/api/jobs/build:lingling"
	var st schedule.Status
	testwait.For(t, "scheduled runs", func() bool {
		st = schedule.Status{}
		api(t, "GET", bases[1]+job, token, "", &st)
		return slices.ContainsFunc(st.History, func(r schedule.Run) bool { return r.Trigger == "schedule" && r.Status == "ok" })
	})
	// Paused (announced to the other replica), the job runs only when asked: once on each.
	if code := api(t, "POST", bases[0]+job+"/pause", token, "", &st); code != 200 {
		t.Fatalf("pause: %d", code)
	}
	testwait.For(t, "the pause on both replicas", func() bool {
		s0, _ := as[0].Scheduler.Status("build:lingling")
		s1, _ := as[1].Scheduler.Status("build:lingling")
		return s0.Paused && s1.Paused && !s0.Running && !s1.Running
	})
	var manual []runReply
	for _, base := range bases {
		var r runReply
		testwait.For(t, "a manual run", func() bool { // a tick's lease may still be held
			return api(t, "POST", base+job+"/run?wait=30s", token, "", &r) == 200 && r.Status == "ok"
		})
		manual = append(manual, r)
	}

	var seen [2]schedule.Status
	testwait.For(t, "one history on both replicas", func() bool {
		for i, base := range bases {
			seen[i] = schedule.Status{}
			api(t, "GET", base+job, token, "", &seen[i])
		}
		return fmt.Sprint(historyRows(seen[0])) == fmt.Sprint(historyRows(seen[1]))
	})
	replicasSeen := map[string]bool{}
	for _, r := range seen[0].History {
		replicasSeen[r.Replica] = true
	}
	if !replicasSeen[as[0].Replica] || !replicasSeen[as[1].Replica] {
		t.Errorf("history names replicas %v, want both %s and %s", replicasSeen, as[0].Replica, as[1].Replica)
	}
	// Each replica finds the other's run by id, as it ran there.
	for i, r := range manual {
		var got runReply
		other := bases[1-i]
		if code := api(t, "GET", other+job+"/runs/"+r.ID, token, "", &got); code != 200 || got.Status != "ok" || got.Replica != as[i].Replica {
			t.Errorf("replica %d reading replica %d's run %s: %d %+v", 1-i, i, r.ID, code, got)
		}
	}
}

// historyRows is what two replicas must agree on.
func historyRows(st schedule.Status) []string {
	var out []string
	for _, r := range st.History {
		out = append(out, strings.Join([]string{r.ID, r.Replica, r.Trigger, r.Status, r.Start.UTC().String(), r.End.UTC().String()}, " "))
	}
	return out
}

// jobs.history.keep bounds what the API shows and the store holds.
func TestJobHistoryRetention(t *testing.T) {
	a, base := startService(t, t.TempDir(), jobsConfig, "SYNDICATE_JOBS_HISTORY_KEEP=3")
	if err := a.Scheduler.SetPaused("build:lingling", true); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the start-up builds", func() bool { // so that only the test's runs follow
		l, _ := a.Scheduler.Status("build:lingling")
		all, _ := a.Scheduler.Status("build:all")
		return l.Runs > 0 && all.Runs > 0 && !l.Running && !all.Running
	})
	var ids []string
	for range 5 {
		ids = append(ids, runOnce(t, base, "build:lingling").ID)
	}
	var st schedule.Status
	testwait.For(t, "the last run stored", func() bool {
		runs, err := a.Store.JobRuns(context.Background(), "build:lingling", 100)
		return err == nil && len(runs) > 0 && runs[0].ID == ids[4] && runs[0].Status == "ok"
	})
	runs, err := a.Store.JobRuns(context.Background(), "build:lingling", 100)
	if err != nil || len(runs) != 3 {
		t.Fatalf("stored runs: %d, %v; want 3", len(runs), err)
	}
	api(t, "GET", base+"/api/jobs/build:lingling", token, "", &st)
	var got []string
	for _, r := range st.History {
		got = append(got, r.ID)
	}
	if want := []string{ids[4], ids[3], ids[2]}; !slices.Equal(got, want) {
		t.Errorf("history %v, want the 3 newest %v", got, want)
	}
	if code := api(t, "GET", base+"/api/jobs/build:lingling/runs/"+ids[0], token, "", nil); code != 404 {
		t.Errorf("a pruned run: %d, want 404", code)
	}
}

// A store that stops answering fails the run at its deadline without holding up the scheduler;
// the run is shown from memory meanwhile, stored once the store answers again, and the next tick
// runs normally. PostgreSQL is held by another connection's ACCESS EXCLUSIVE locks on the table
// the poll writes and on the history table.
func TestJobFailsAtDeadlineWhenStoreHangs(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	var n atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1) // a new item each poll, so each poll writes
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>up</title><link>http://up.example/</link><description>d</description>
<item><title>第%d条</title><link>http://up.example/%d</link><guid>http://up.example/%d</guid><pubDate>Mon, 30 Nov 2026 08:00:00 +0800</pubDate></item>
</channel></rss>`, i, i, i)
	}))
	defer upstream.Close()
	// ingest.timeout 1s: the poll job's deadline is twice that.
	a, base := startService(t, t.TempDir(), `
channels:
  - {slug: lingling, title: 零陵, schedule: "@yearly"}
defaults: {schedule: "@yearly"}
ingest: {timeout: 1s, backoff_max: 1s, allow_private: true} # a failed poll waits a second, not a minute
sources:
  - {name: up, url: "`+upstream.URL+`/feed.xml", channels: [lingling], schedule: "@every 2s"}
`, "SYNDICATE_STORE_DSN="+dsn)
	job := app.IngestJobName("up")
	ctx := context.Background()
	testwait.For(t, "a stored successful poll", func() bool {
		runs, err := a.Store.JobRuns(ctx, job, 10)
		return err == nil && slices.ContainsFunc(runs, func(r store.JobRun) bool { return r.Status == "ok" })
	})

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `LOCK TABLE articles, job_runs IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	locked := time.Now()
	var failed schedule.Run
	testwait.For(t, "a poll failed at its deadline", func() bool {
		st, _ := a.Scheduler.Status(job)
		for _, r := range st.History {
			if r.Start.After(locked) && r.Status == "failed" {
				failed = r
				return true
			}
		}
		return false
	})
	if !strings.Contains(failed.Error, "deadline") {
		t.Errorf("failed with %q, want a deadline error", failed.Error)
	}
	// The job's deadline ended it, not the history writes (each waits up to 5s on the lock).
	if took := failed.End.Sub(failed.Start); took > 3*time.Second {
		t.Errorf("the run took %v with a 2s deadline", took)
	}
	// Its history row cannot be written now; this replica answers from memory.
	var got runReply
	if code := api(t, "GET", base+"/api/jobs/"+job+"/runs/"+failed.ID, token, "", &got); code != 200 || got.Status != "failed" || !strings.Contains(got.Error, "deadline") {
		t.Errorf("GET the failed run while the store hangs: %d %+v", code, got)
	}

	// The job's history cannot be read either: the answer comes, late, from this process's runs.
	var st schedule.Status
	if code := api(t, "GET", base+"/api/jobs/"+job, token, "", &st); code != 200 || st.HistoryNote == "" ||
		!slices.ContainsFunc(st.History, func(r schedule.Run) bool { return r.ID == failed.ID && r.Status == "failed" }) {
		t.Errorf("GET the job while the store hangs: %d, note %q, history %+v", code, st.HistoryNote, st.History)
	}

	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	released := time.Now()
	testwait.For(t, "the failure stored", func() bool {
		r, err := a.Store.JobRun(ctx, job, failed.ID)
		return err == nil && r.Status == "failed" && strings.Contains(r.Error, "deadline") && r.Replica == a.Replica
	})
	testwait.For(t, "a successful tick after the store came back", func() bool {
		st = schedule.Status{} // decoding into the old value would keep its note
		api(t, "GET", base+"/api/jobs/"+job, token, "", &st)
		return slices.ContainsFunc(st.History, func(r schedule.Run) bool {
			return r.Trigger == "schedule" && r.Status == "ok" && r.Start.After(released)
		}) && st.HistoryNote == ""
	})
}

// Every time the jobs API gives carries the offset of the job's zone: the site's by default,
// the spec's CRON_TZ= when it has one.
func TestJobTimesCarryTheJobsOffset(t *testing.T) {
	a, base := startService(t, t.TempDir(), `
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 1h"}
  - {slug: qiyang, title: 祁阳, schedule: "CRON_TZ=UTC 0 8 * * *"}
  - {slug: daoxian, title: 道县, schedule: "CRON_TZ=Asia/Kolkata 30 9 * * *"}
defaults: {schedule: "@yearly"}
`)
	tests := []struct {
		job    string
		offset string
	}{
		{"build:lingling", "+08:00"},
		{"build:qiyang", "Z"},
		{"build:daoxian", "+05:30"},
		{"build:all", "+08:00"},
	}
	hasOffset := func(what, v, offset string) {
		t.Helper()
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil || !strings.HasSuffix(v, offset) {
			t.Errorf("%s = %q, want an RFC 3339 time ending %s", what, v, offset)
		}
	}
	for _, tt := range tests {
		t.Run(tt.job, func(t *testing.T) {
			var raw struct {
				Start, End, Deadline string
			}
			// The stored run, then the job with its history.
			r := runOnce(t, base, tt.job)
			testwait.For(t, "the run stored", func() bool {
				got, err := a.Store.JobRun(context.Background(), tt.job, r.ID)
				return err == nil && got.Status == "ok"
			})
			api(t, "GET", base+"/api/jobs/"+tt.job+"/runs/"+r.ID, token, "", &raw)
			hasOffset("run start", raw.Start, tt.offset)
			hasOffset("run end", raw.End, tt.offset)
			hasOffset("run deadline", raw.Deadline, tt.offset)
			var job struct {
				Next     string `json:"next_run"`
				Previous string `json:"previous_run"`
				History  []struct{ Start, End, Status string }
			}
			api(t, "GET", base+"/api/jobs/"+tt.job, token, "", &job)
			hasOffset("next_run", job.Next, tt.offset)
			hasOffset("previous_run", job.Previous, tt.offset)
			if len(job.History) == 0 {
				t.Fatal("no history")
			}
			for _, h := range job.History {
				hasOffset("history start", h.Start, tt.offset)
				if h.Status != "running" { // a tick that started meanwhile has no end yet
					hasOffset("history end", h.End, tt.offset)
				}
			}
		})
	}
	var list []struct {
		Name     string
		Next     string `json:"next_run"`
		Previous string `json:"previous_run"`
	}
	api(t, "GET", base+"/api/jobs", token, "", &list)
	for _, j := range list {
		for _, tt := range tests {
			if tt.job == j.Name {
				hasOffset(j.Name+" next_run in the list", j.Next, tt.offset)
				hasOffset(j.Name+" previous_run in the list", j.Previous, tt.offset)
			}
		}
	}
}

// A run another replica left running reads as running until its deadline, then as abandoned.
func TestRunLeftRunningIsAbandonedAfterItsDeadline(t *testing.T) {
	a, base := startService(t, t.TempDir(), jobsConfig)
	ctx := context.Background()
	now := time.Now()
	keep := store.Retention{Keep: 100, MaxAge: time.Hour}
	tests := []struct {
		id       string
		deadline time.Time
		want     string
	}{
		{"01900000-0000-7000-8000-000000000001", now.Add(-time.Second), "abandoned"},
		{"01900000-0000-7000-8000-000000000002", now.Add(time.Hour), "running"},
	}
	for _, tt := range tests {
		r := store.JobRun{ID: tt.id, Job: "build:lingling", Trigger: "schedule", Replica: "dead-replica",
			Start: now.Add(-time.Minute), Deadline: tt.deadline, Status: "running"}
		if err := a.Store.SaveRuns(ctx, []store.JobRun{r}, keep, now); err != nil {
			t.Fatal(err)
		}
	}
	var st schedule.Status
	api(t, "GET", base+"/api/jobs/build:lingling", token, "", &st)
	for _, tt := range tests {
		var got runReply
		if code := api(t, "GET", base+"/api/jobs/build:lingling/runs/"+tt.id, token, "", &got); code != 200 || got.Status != tt.want || got.Replica != "dead-replica" {
			t.Errorf("run %s: %d %+v, want %s", tt.id, code, got, tt.want)
		}
		if !slices.ContainsFunc(st.History, func(r schedule.Run) bool { return r.ID == tt.id && r.Status == tt.want }) {
			t.Errorf("history has no %s run %s: %+v", tt.want, tt.id, st.History)
		}
	}
}
