package schedule_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/schedule"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// brokenStore is a real store whose settings writes and history reads fail: a store that is down.
type brokenStore struct{ *sqlite.DB }

var errStoreDown = errors.New("store down (test)")

func (brokenStore) SaveJobSettings(context.Context, string, string, bool, time.Time) error {
	return errStoreDown
}

func (brokenStore) RecentRuns(context.Context, int) (map[string][]store.JobRun, error) {
	return nil, errStoreDown
}

func (brokenStore) JobRuns(context.Context, string, int) ([]store.JobRun, error) {
	return nil, errStoreDown
}

// hooks counts the Service's Changed and Announce calls.
type hooks struct {
	changed   int
	announced []string
}

// newService returns a Service over st with one @hourly job, "build:lingling", and its hooks.
func newService(t *testing.T, st schedule.ServiceStore, db *sqlite.DB) (*schedule.Service, *hooks) {
	t.Helper()
	s := schedule.New("UTC", quiet())
	if err := s.Add(schedule.Job{Name: "build:lingling", Spec: "@hourly", Run: func(context.Context) (int, error) { return 1, nil }}); err != nil {
		t.Fatal(err)
	}
	runs := schedule.NewRunLog(db, "replica-a", store.Retention{Keep: 10, MaxAge: time.Hour}, quiet())
	t.Cleanup(func() { runs.Close(context.Background()) })
	s.Record = runs.Record
	h := &hooks{}
	return &schedule.Service{
		Scheduler: s, Runs: runs, Store: st, Replica: "replica-a", Keep: 10, Log: quiet(),
		Configured: map[string]string{"build:lingling": "@hourly"},
		Changed:    func() { h.changed++ },
		Announce:   func(job string) { h.announced = append(h.announced, job) },
	}, h
}

// An operator's change is saved first: when the store refuses it, the scheduler keeps the old
// settings and nobody is told; when it is saved, the scheduler follows and both hooks hear of it.
func TestServiceSavesBeforeChanging(t *testing.T) {
	req := httptest.NewRequest("PUT", "/api/jobs/build:lingling", nil)
	tests := []struct {
		name   string
		broken bool
		change func(*schedule.Service) error
		spec   string
		paused bool
	}{
		{"reschedule", false, func(s *schedule.Service) error { return s.Reschedule(req, "build:lingling", "@every 5m") }, "@every 5m", false},
		{"pause", false, func(s *schedule.Service) error { return s.SetPaused(req, "build:lingling", true) }, "@hourly", true},
		{"reschedule, store down", true, func(s *schedule.Service) error { return s.Reschedule(req, "build:lingling", "@every 5m") }, "@hourly", false},
		{"pause, store down", true, func(s *schedule.Service) error { return s.SetPaused(req, "build:lingling", true) }, "@hourly", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openStates(t)
			var st schedule.ServiceStore = db
			if tt.broken {
				st = brokenStore{db}
			}
			svc, h := newService(t, st, db)
			err := tt.change(svc)
			if tt.broken != (err != nil) {
				t.Fatalf("change: %v", err)
			}
			got, _ := svc.Scheduler.Status("build:lingling")
			if got.Spec != tt.spec || got.Paused != tt.paused {
				t.Errorf("scheduler runs %q paused=%v, want %q paused=%v", got.Spec, got.Paused, tt.spec, tt.paused)
			}
			wantHooks := 1
			if tt.broken {
				wantHooks = 0
			}
			if h.changed != wantHooks || len(h.announced) != wantHooks {
				t.Errorf("Changed called %d times, Announce %q; want %d each", h.changed, h.announced, wantHooks)
			}
			states, err := db.JobStates(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if saved, ok := states["build:lingling"]; ok == tt.broken || ok && saved.Paused != tt.paused {
				t.Errorf("saved state %+v (saved: %v)", saved, ok)
			}
		})
	}
}

// Pausing a job whose schedule the operator never changed saves no schedule, so a later change
// of the configured one still applies; once changed, the operator's schedule is kept.
func TestServicePauseKeepsTheConfiguredSchedule(t *testing.T) {
	db := openStates(t)
	svc, _ := newService(t, db, db)
	req := httptest.NewRequest("POST", "/api/jobs/build:lingling/pause", nil)
	saved := func() string {
		t.Helper()
		states, err := db.JobStates(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return states["build:lingling"].Schedule
	}
	if err := svc.SetPaused(req, "build:lingling", true); err != nil {
		t.Fatal(err)
	}
	if s := saved(); s != "" {
		t.Errorf("pause saved the schedule %q, want none (the configured one)", s)
	}
	if err := svc.Reschedule(req, "build:lingling", "@every 5m"); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetPaused(req, "build:lingling", false); err != nil {
		t.Fatal(err)
	}
	if s := saved(); s != "@every 5m" {
		t.Errorf("resume saved the schedule %q, want the operator's @every 5m", s)
	}
}

// History comes from the store; while the store does not answer, from this replica, with a note.
// A run is found by id in the store, and an unknown id is ErrUnknownRun.
func TestServiceHistoryAndRuns(t *testing.T) {
	ctx := context.Background()
	db := openStates(t)
	svc, _ := newService(t, db, db)
	r, err := svc.Scheduler.RunNow(ctx, "build:lingling")
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the run in the store", func() bool {
		runs, err := db.JobRuns(ctx, "build:lingling", 10)
		return err == nil && len(runs) == 1 && runs[0].Status == schedule.StatusOK
	})
	st, err := svc.Status(ctx, "build:lingling")
	if err != nil || len(st.History) != 1 || st.History[0].ID != r.ID || st.History[0].Replica != "replica-a" || st.HistoryNote != "" {
		t.Errorf("status = %+v, %v; want the stored run", st, err)
	}
	list, err := svc.List(ctx)
	if err != nil || len(list) != 1 || len(list[0].History) != 1 {
		t.Errorf("list = %+v, %v", list, err)
	}
	if got, err := svc.Run(ctx, "build:lingling", r.ID); err != nil || got.ID != r.ID || got.Count != 1 {
		t.Errorf("Run(%s) = %+v, %v", r.ID, got, err)
	}
	if _, err := svc.Run(ctx, "build:lingling", "no-such-run"); !errors.Is(err, schedule.ErrUnknownRun) {
		t.Errorf("unknown run: %v, want ErrUnknownRun", err)
	}

	svc.Store = brokenStore{db}
	st, err = svc.Status(ctx, "build:lingling")
	if err != nil || st.HistoryNote == "" || len(st.History) != 1 {
		t.Errorf("status with the store down = %+v, %v; want this replica's run and a note", st, err)
	}
	if list, err := svc.List(ctx); err != nil || len(list) != 1 || list[0].HistoryNote == "" {
		t.Errorf("list with the store down = %+v, %v", list, err)
	}
}

// Reload applies the settings another replica saved and tells Changed, but announces nothing.
func TestServiceReload(t *testing.T) {
	ctx := context.Background()
	db := openStates(t)
	svc, h := newService(t, db, db)
	if err := db.SaveJobSettings(ctx, "build:lingling", "@every 10m", true, time.Now()); err != nil {
		t.Fatal(err)
	}
	svc.Reload(ctx)
	st, _ := svc.Scheduler.Status("build:lingling")
	if st.Spec != "@every 10m" || !st.Paused {
		t.Errorf("after Reload the job runs %q paused=%v", st.Spec, st.Paused)
	}
	if h.changed != 1 || len(h.announced) != 0 {
		t.Errorf("Changed %d times, announced %q; want 1 and none", h.changed, h.announced)
	}
	if next := svc.Scheduler.NextRun("build:lingling"); !next.IsZero() {
		t.Errorf("NextRun of a paused job = %v, want zero", next)
	}
}
