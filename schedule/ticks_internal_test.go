package schedule

import (
	"testing"
	"time"
)

// A run names the tick cron fired it for, whether cron asked for the next tick before the run's
// goroutine looked or after.
func TestTicksStarted(t *testing.T) {
	spec, err := ParseSpec("@every 1m", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	tk := &ticks{Schedule: spec}
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	if got := tk.started(t0); !got.IsZero() {
		t.Errorf("before cron asked: %v, want none", got)
	}
	first := tk.Next(t0.Add(-30 * time.Second)) // cron schedules the job
	if !first.Equal(t0) {
		t.Fatalf("Next = %v, want %v", first, t0)
	}
	if got := tk.next(t0.Add(-time.Second)); !got.Equal(t0) {
		t.Errorf("next before the tick = %v, want %v", got, t0)
	}
	fired := t0.Add(3 * time.Millisecond) // cron's timer jitter
	tests := []struct {
		name  string
		asked bool // cron asked Next again before the run looked
	}{{"run first", false}, {"cron first", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := &ticks{Schedule: spec}
			tk.Next(t0.Add(-30 * time.Second))
			if tt.asked {
				tk.Next(fired)
			}
			if got := tk.started(fired.Add(time.Millisecond)); !got.Equal(t0) {
				t.Errorf("started = %v, want the tick %v", got, t0)
			}
		})
	}
}
