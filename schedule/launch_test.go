package schedule_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/schedule"
)

// Launch answers at once with a running run, the job's current run while it runs and in its
// history, with its outcome, once it ended; a second launch meanwhile is ErrBusy. The run it
// answers is the run recorded: same id, start and deadline, though the clock moved on.
func TestLaunchRunsInTheBackground(t *testing.T) {
	s := schedule.New("UTC", quiet())
	var mu sync.Mutex
	clock := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Second); return clock }
	var recorded []schedule.Run
	s.Record = func(_ string, r schedule.Run) { mu.Lock(); recorded = append(recorded, r); mu.Unlock() }
	release := make(chan struct{})
	if err := s.Add(schedule.Job{Name: "slow", Spec: "@yearly", Run: func(ctx context.Context) (int, error) {
		<-release
		return 7, nil
	}}); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	r, done, err := s.Launch(context.Background(), "slow")
	if err != nil || r.ID == "" || r.Status != schedule.StatusRunning {
		t.Fatalf("Launch = %+v, %v; want a running run with an id", r, err)
	}
	if st, _ := s.Status("slow"); st.Current == nil || st.Current.ID != r.ID || !st.Current.Start.Equal(r.Start) || !st.Running {
		t.Errorf("status while running: %+v; want the launched run %+v current", st, r)
	}
	if _, _, err := s.Launch(context.Background(), "slow"); !errors.Is(err, schedule.ErrBusy) {
		t.Errorf("second Launch: %v, want ErrBusy", err)
	}
	close(release)
	out := <-done
	if out.ID != r.ID || out.Status != schedule.StatusOK || out.Count != 7 || out.End.IsZero() {
		t.Errorf("outcome = %+v", out)
	}
	if st, _ := s.Status("slow"); len(st.History) != 1 || st.History[0].ID != r.ID || st.History[0].Status != schedule.StatusOK || st.History[0].Count != 7 {
		t.Errorf("history after the end = %+v", st.History)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(recorded) != 2 {
		t.Fatalf("recorded %d times, want at the start and at the end", len(recorded))
	}
	for _, rec := range recorded {
		if rec.ID != r.ID || !rec.Start.Equal(r.Start) || !rec.Deadline.Equal(r.Deadline) {
			t.Errorf("recorded run %s started %v, deadline %v; Launch answered %s started %v, deadline %v",
				rec.ID, rec.Start, rec.Deadline, r.ID, r.Start, r.Deadline)
		}
	}
	if !out.Start.Equal(r.Start) {
		t.Errorf("finished run started %v, Launch answered %v", out.Start, r.Start)
	}
	if _, _, err := s.Launch(context.Background(), "nope"); !errors.Is(err, schedule.ErrUnknownJob) {
		t.Errorf("unknown job: %v", err)
	}
}

// A scheduled tick that panics is a failed run in the history; the next tick runs normally.
func TestTickAfterPanicRunsNormally(t *testing.T) {
	s := schedule.New("UTC", quiet())
	var calls atomic.Int32
	if err := s.Add(schedule.Job{Name: "boom", Spec: "@every 1s", Run: func(ctx context.Context) (int, error) {
		if calls.Add(1) == 1 {
			panic("first tick explodes")
		}
		return 1, nil
	}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Stop(context.Background())
	testwait.For(t, "two ticks", func() bool { st, _ := s.Status("boom"); return len(st.History) >= 2 })
	st, _ := s.Status("boom")
	first, second := st.History[len(st.History)-1], st.History[len(st.History)-2]
	if first.Trigger != "schedule" || first.Status != schedule.StatusFailed || !strings.Contains(first.Error, "panic: first tick explodes") {
		t.Errorf("first tick = %+v", first)
	}
	if second.Status != schedule.StatusOK || st.Panics != 1 {
		t.Errorf("second tick = %+v, panics %d", second, st.Panics)
	}
}
