package schedule_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/yongzhou-news/syndicate/schedule"
)

// Launch answers at once with a running run whose id finds it while it runs and, with its
// outcome, once it ended; a second launch meanwhile is ErrBusy.
func TestLaunchRunsInTheBackground(t *testing.T) {
	s := schedule.New("UTC", quiet())
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
	if got, err := s.Run("slow", r.ID); err != nil || got.Status != schedule.StatusRunning {
		t.Errorf("Run(id) while running = %+v, %v", got, err)
	}
	if st, _ := s.Status("slow"); st.Current == nil || st.Current.ID != r.ID || !st.Running {
		t.Errorf("status while running: %+v", st)
	}
	if _, _, err := s.Launch(context.Background(), "slow"); !errors.Is(err, schedule.ErrBusy) {
		t.Errorf("second Launch: %v, want ErrBusy", err)
	}
	close(release)
	out := <-done
	if out.ID != r.ID || out.Status != schedule.StatusOK || out.Count != 7 || out.End.IsZero() {
		t.Errorf("outcome = %+v", out)
	}
	if got, err := s.Run("slow", r.ID); err != nil || got.Status != schedule.StatusOK || got.Count != 7 {
		t.Errorf("Run(id) after the end = %+v, %v", got, err)
	}
	if _, err := s.Run("slow", "0190-nope"); !errors.Is(err, schedule.ErrUnknownRun) {
		t.Errorf("unknown run id: %v", err)
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
	waitFor(t, "two ticks", func() bool { st, _ := s.Status("boom"); return len(st.History) >= 2 })
	st, _ := s.Status("boom")
	first, second := st.History[len(st.History)-1], st.History[len(st.History)-2]
	if first.Trigger != "schedule" || first.Status != schedule.StatusFailed || !strings.Contains(first.Error, "panic: first tick explodes") {
		t.Errorf("first tick = %+v", first)
	}
	if second.Status != schedule.StatusOK || st.Panics != 1 {
		t.Errorf("second tick = %+v, panics %d", second, st.Panics)
	}
}
