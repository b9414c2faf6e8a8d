package schedule_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/schedule"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

func openStates(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Saved settings win over the configured ones, and a reset saved schedule reverts the job.
func TestApplySaved(t *testing.T) {
	ctx := context.Background()
	db := openStates(t)
	s := schedule.New("UTC", slog.New(slog.NewTextHandler(io.Discard, nil)))
	configured := map[string]string{"build:lingling": "@daily", "build:yongzhou": "@hourly"}
	for name, spec := range configured {
		if err := s.Add(schedule.Job{Name: name, Spec: spec, Run: func(context.Context) (int, error) { return 0, nil }}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Reschedule("build:yongzhou", "@every 5m"); err != nil { // another replica's, since reset
		t.Fatal(err)
	}
	if err := db.SaveJobSettings(ctx, "build:lingling", "@every 1h", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveJobSettings(ctx, "build:yongzhou", "", false, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.ApplySaved(ctx, db, configured); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		job, spec string
		paused    bool
	}{{"build:lingling", "@every 1h", true}, {"build:yongzhou", "@hourly", false}} {
		spec, err := s.Spec(tt.job)
		if err != nil || spec.Raw != tt.spec {
			t.Errorf("%s: spec %q (err %v), want %q", tt.job, spec.Raw, err, tt.spec)
		}
		if st, err := s.Status(tt.job); err != nil || st.Paused != tt.paused {
			t.Errorf("%s: paused %v (err %v), want %v", tt.job, st.Paused, err, tt.paused)
		}
	}
}

func TestCatchUpOrder(t *testing.T) {
	job := func(n string) schedule.CatchUpJob { return schedule.CatchUpJob{Name: n} }
	tests := []struct {
		name          string
		polls, builds []schedule.CatchUpJob
		want          []string
	}{
		{"site alone", nil, nil, []string{"build:site"}},
		{"polls, children first, site last",
			[]schedule.CatchUpJob{job("ingest:a"), job("ingest:b")},
			[]schedule.CatchUpJob{job("build:yongzhou"), job("build:lingling")},
			[]string{"ingest:a", "ingest:b", "build:lingling", "build:yongzhou", "build:site"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, j := range schedule.CatchUpOrder(tt.polls, tt.builds, job("build:site")) {
				got = append(got, j.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("order %q, want %q", got, tt.want)
			}
		})
	}
}

// Catch-up runs, in order, what missed a tick within its deadline and what must run though it
// never ran, and nothing else: not what ran here since start (its state was read before that).
func TestCatchUp(t *testing.T) {
	ctx := context.Background()
	db := openStates(t)
	s := schedule.New("UTC", slog.New(slog.NewTextHandler(io.Discard, nil)))
	var mu sync.Mutex
	var ran []string
	jobs := []schedule.CatchUpJob{
		{Name: "missed"}, // last ran 3h ago, hourly
		{Name: "recent"}, // ran just now
		{Name: "too-late", Deadline: time.Nanosecond}, // missed, past its deadline
		{Name: "never-poll"},                          // never ran, not Never
		{Name: "never-build", Never: true},            // never ran, must
		{Name: "missed-in-deadline", Deadline: 2 * time.Hour},
		{Name: "ran-since-start", Never: true}, // never ran before start, ran by hand since
	}
	for _, j := range jobs {
		name := j.Name
		if err := s.Add(schedule.Job{Name: name, Spec: "@hourly", Run: func(context.Context) (int, error) {
			mu.Lock()
			ran = append(ran, name)
			mu.Unlock()
			return 0, nil
		}}); err != nil {
			t.Fatal(err)
		}
	}
	for name, last := range map[string]time.Time{
		"missed": time.Now().Add(-3 * time.Hour), "recent": time.Now(), "too-late": time.Now().Add(-3 * time.Hour),
		"missed-in-deadline": time.Now().Add(-3 * time.Hour),
	} {
		r := store.JobRun{ID: "run-" + name, Job: name, Start: last, Status: store.RunRunning}
		if err := db.SaveRuns(ctx, []store.JobRun{r}, store.Retention{Keep: 1, MaxAge: time.Hour}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RunNow(ctx, "ran-since-start"); err != nil {
		t.Fatal(err)
	}
	s.CatchUp(ctx, db, jobs)
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"ran-since-start", "missed", "never-build", "missed-in-deadline"}; !slices.Equal(ran, want) {
		t.Errorf("ran %q, want %q", ran, want)
	}
	// The history says why each ran: the operator's run, then start-up's catch-up.
	for job, want := range map[string]string{"ran-since-start": "manual", "missed": "catch-up", "never-build": "catch-up"} {
		if st, err := s.Status(job); err != nil || len(st.History) == 0 || st.History[0].Trigger != want {
			t.Errorf("%s: history %+v (%v), want its run triggered by %s", job, st.History, err, want)
		}
	}
}
