package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

func jobRun(job string, n int, status string) store.JobRun {
	start := base.Add(time.Duration(n) * time.Minute).UTC()
	r := store.JobRun{
		ID: fmt.Sprintf("0190-%s-%04d", job, n), Job: job, Trigger: "schedule", Replica: "replica-a",
		Start: start, Deadline: start.Add(5 * time.Minute), Status: status,
	}
	if status != store.RunRunning {
		r.End, r.Count, r.Documents, r.Events = start.Add(1500*time.Millisecond), 3, 3, 2
	}
	if status == store.RunFailed {
		r.Error = "deadline: context deadline exceeded"
	}
	return r
}

// testRunHistory: a run is saved when it starts and updated when it ends, a finished run is
// never made running again by a late write, and reads come newest first.
func testRunHistory(t *testing.T, s store.Store) {
	ctx := context.Background()
	keep := store.Retention{Keep: 100, MaxAge: 30 * 24 * time.Hour}
	now := base.Add(time.Hour)
	if _, err := s.JobRun(ctx, "build:lingling", "none"); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
		t.Fatalf("JobRun of an empty store: %v, want ENOTFOUND", err)
	}
	started := jobRun("build:lingling", 1, store.RunRunning)
	if err := s.SaveRuns(ctx, []store.JobRun{started}, keep, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.JobRun(ctx, "build:lingling", started.ID)
	if err != nil || got != started {
		t.Fatalf("running run = %+v, %v; want %+v", got, err, started)
	}
	ended := jobRun("build:lingling", 1, store.RunFailed)
	if err := s.SaveRuns(ctx, []store.JobRun{ended}, keep, now); err != nil {
		t.Fatal(err)
	}
	// A retried write of the start that lands after the end changes nothing.
	if err := s.SaveRuns(ctx, []store.JobRun{started}, keep, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.JobRun(ctx, "build:lingling", ended.ID); err != nil || got != ended {
		t.Fatalf("ended run = %+v, %v; want %+v", got, err, ended)
	}
	if _, err := s.JobRun(ctx, "build:zhengwu", ended.ID); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
		t.Errorf("run under another job's name: %v, want ENOTFOUND", err)
	}
	// One batch, in order: a run's start then its end leaves it ended.
	batch := []store.JobRun{jobRun("build:lingling", 2, store.RunRunning), jobRun("build:lingling", 2, store.RunOK),
		jobRun("build:lingling", 3, store.RunRunning), jobRun("build:all", 2, store.RunOK)}
	if err := s.SaveRuns(ctx, batch, keep, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.JobRun(ctx, "build:lingling", batch[1].ID); err != nil || got != batch[1] {
		t.Errorf("run started and ended in one batch = %+v, %v; want %+v", got, err, batch[1])
	}
	runs, err := s.JobRuns(ctx, "build:lingling", 10)
	if err != nil {
		t.Fatal(err)
	}
	if ids := runIDs(runs); fmt.Sprint(ids) != "[0190-build:lingling-0003 0190-build:lingling-0002 0190-build:lingling-0001]" {
		t.Errorf("JobRuns = %v, want newest first", ids)
	}
	if runs, _ := s.JobRuns(ctx, "build:lingling", 2); len(runs) != 2 {
		t.Errorf("JobRuns limit 2: %d runs", len(runs))
	}
	recent, err := s.RecentRuns(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != 2 || fmt.Sprint(runIDs(recent["build:lingling"])) != "[0190-build:lingling-0003 0190-build:lingling-0002]" || len(recent["build:all"]) != 1 {
		t.Errorf("RecentRuns(2) = %v", recent)
	}
	if r := recent["build:lingling"][0]; !r.End.IsZero() || r.Abandoned(r.Start.Add(time.Minute)) || !r.Abandoned(r.Deadline.Add(time.Second)) {
		t.Errorf("running run %+v: abandoned only after its deadline", r)
	}
}

// testRunRetention: saving a finished run keeps its job's Keep newest runs and none older than
// MaxAge, and leaves other jobs alone.
func testRunRetention(t *testing.T, s store.Store) {
	ctx := context.Background()
	keep := store.Retention{Keep: 3, MaxAge: 30 * time.Minute}
	if err := s.SaveRuns(ctx, []store.JobRun{jobRun("build:all", 0, store.RunOK)}, keep, base); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		n    int    // the run saved, n minutes after base, saved at its end
		want string // the job's runs afterwards
	}{
		{1, "[1]"},
		{2, "[2 1]"},
		{3, "[3 2 1]"},
		{4, "[4 3 2]"}, // count
		{5, "[5 4 3]"}, // count
		{40, "[40]"},   // age: 3, 4 and 5 started over 30 minutes before
		{41, "[41 40]"},
		{70, "[70 41 40]"}, // 40 started 30 minutes before: not older than MaxAge yet
		{71, "[71 70 41]"}, // age and count
	}
	for _, tt := range tests {
		r := jobRun("build:lingling", tt.n, store.RunOK)
		if err := s.SaveRuns(ctx, []store.JobRun{r}, keep, r.Start); err != nil {
			t.Fatal(err)
		}
		runs, err := s.JobRuns(ctx, "build:lingling", 10)
		if err != nil {
			t.Fatal(err)
		}
		var ns []int
		for _, r := range runs {
			ns = append(ns, int(r.Start.Sub(base.UTC())/time.Minute))
		}
		if fmt.Sprint(ns) != tt.want {
			t.Errorf("after run %d: %v, want %s", tt.n, ns, tt.want)
		}
	}
	// Pruning is per job.
	if runs, _ := s.JobRuns(ctx, "build:all", 10); len(runs) != 1 {
		t.Errorf("another job's runs pruned: %d left", len(runs))
	}
}

func runIDs(runs []store.JobRun) []string {
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	return ids
}
