package schedule_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/schedule"
)

// Record sees each run twice, running (with its deadline) before the job starts and finished
// with what the job reported, so that a store can hold runs in progress too.
func TestRecordSeesStartAndEnd(t *testing.T) {
	s := schedule.New("Asia/Shanghai", quiet())
	var mu sync.Mutex
	var seen []schedule.Run
	s.Record = func(name string, r schedule.Run) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r)
	}
	if err := s.Add(schedule.Job{Name: "build:lingling", Spec: "@yearly", Timeout: time.Minute, Run: func(ctx context.Context) (int, error) {
		mu.Lock()
		started := len(seen)
		mu.Unlock()
		if started != 1 {
			return 0, errors.New("the start was not recorded before the job ran")
		}
		schedule.Report(ctx, schedule.Changes{Documents: 3, Events: 2})
		return 5, nil
	}}); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	out, err := s.RunNow(context.Background(), "build:lingling")
	if err != nil || out.Status != schedule.StatusOK {
		t.Fatalf("RunNow = %+v, %v", out, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2 {
		t.Fatalf("Record called %d times, want 2", len(seen))
	}
	start, end := seen[0], seen[1]
	if start.ID != out.ID || start.Status != schedule.StatusRunning || !start.End.IsZero() || start.Deadline.Sub(start.Start) != time.Minute {
		t.Errorf("start recorded as %+v", start)
	}
	if end.ID != out.ID || end.Status != schedule.StatusOK || end.Count != 5 || end.Documents != 3 || end.Events != 2 || end.End.IsZero() {
		t.Errorf("end recorded as %+v", end)
	}
	// Outside a run, Report does nothing.
	schedule.Report(context.Background(), schedule.Changes{Documents: 1})
}

// Status, Run and the history give times in the job's zone, with its offset in JSON.
func TestStatusTimesInTheJobsZone(t *testing.T) {
	tests := []struct {
		spec   string
		offset string // what every time in the JSON ends with
	}{
		{"@every 1h", "+08:00"},
		{"0 8 * * *", "+08:00"},
		{"CRON_TZ=UTC 0 8 * * *", "Z"},
		{"CRON_TZ=America/New_York @every 1h", "-05:00"}, // 30 November: standard time
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s := schedule.New("Asia/Shanghai", quiet())
			s.Now = func() time.Time { return time.Date(2026, 11, 30, 10, 0, 2, 0, time.UTC) }
			if err := s.Add(schedule.Job{Name: "j", Spec: tt.spec, Run: func(context.Context) (int, error) { return 1, nil }}); err != nil {
				t.Fatal(err)
			}
			defer s.Stop(context.Background())
			r, err := s.RunNow(context.Background(), "j")
			if err != nil {
				t.Fatal(err)
			}
			st, err := s.Status("j")
			if err != nil {
				t.Fatal(err)
			}
			got := st.History[0]
			if got.ID != r.ID {
				t.Fatalf("history holds run %s, want %s", got.ID, r.ID)
			}
			for what, v := range map[string]any{"next_run": st.Next, "previous_run": st.Previous, "history start": st.History[0].Start,
				"history end": st.History[0].End, "run start": got.Start, "run deadline": got.Deadline} {
				b, _ := json.Marshal(v)
				if !strings.HasSuffix(strings.Trim(string(b), `"`), tt.offset) {
					t.Errorf("%s = %s, want the offset %s", what, b, tt.offset)
				}
			}
		})
	}
}
