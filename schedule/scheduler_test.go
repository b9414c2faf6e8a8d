package schedule_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/schedule"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestParseSpec(t *testing.T) {
	tests := []struct {
		spec    string
		wantErr string
		wantTZ  string
	}{
		{"*/5 * * * *", "", "Asia/Shanghai"},
		{"@every 90s", "", "Asia/Shanghai"},
		{"@hourly", "", "Asia/Shanghai"},
		{"CRON_TZ=Europe/Berlin 30 2 * * *", "", "Europe/Berlin"},
		{"TZ=UTC @daily", "", "UTC"},
		{"61 * * * *", "61", ""},
		{"* * * *", "expected exactly 5 fields", ""},
		{"TZ=0", "time zone prefix", ""},
		{"TZ=TZ=", "time zone prefix", ""},
		{"TZ=TZ= * * * * *", "unknown time zone", ""},
		{"CRON_TZ=Mars/Base * * * * *", "unknown time zone", ""},
		{"", "empty", ""},
		{"@fortnightly", "unrecognized descriptor", ""},
		// Steps, values and ranges outside a field's bounds, as crontab tools reject them.
		{"*/61 * * * *", "minute field: step (61) above maximum (59)", ""},
		{"*/60 * * * *", "minute field: step (60) above maximum (59)", ""},
		{"0 */24 * * *", "hour field: step (24) above maximum (23)", ""},
		{"0 0 */31 * *", "day of month field: step (31) above maximum (30)", ""},
		{"0 0 1 */12 *", "month field: step (12) above maximum (11)", ""},
		{"0 0 * * 1/7", "day of week field: step (7) above maximum (6)", ""},
		{"0,5-10/70 * * * *", "step (70) above maximum (59): 5-10/70", ""},
		{"*/0 * * * *", "step of range should be a positive number", ""},
		{"5-70 * * * *", "end of range (70) above maximum (59)", ""},
		{"0 24 * * *", "end of range (24) above maximum (23)", ""},
		{"0 0 0 * *", "beginning of range (0) below minimum (1)", ""},
		{"0 0 32 * *", "above maximum (31)", ""},
		{"0 0 * 13 *", "above maximum (12)", ""},
		{"0 0 * * 8", "above maximum (6)", ""},
		{"30-10 * * * *", "beginning of range (30) beyond end of range (10)", ""},
		{"CRON_TZ=UTC */61 * * * *", "step (61) above maximum (59)", ""},
		{"*/59 * * * *", "", "Asia/Shanghai"},
		{"0 */23 * * *", "", "Asia/Shanghai"},
		{"0 8 * JAN-DEC/3 MON-FRI", "", "Asia/Shanghai"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := schedule.ParseSpec(tt.spec, "Asia/Shanghai")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Location.String() != tt.wantTZ {
				t.Errorf("location = %s, want %s", s.Location, tt.wantTZ)
			}
		})
	}
}

func TestSpecRunsInSiteTimezone(t *testing.T) {
	s, err := schedule.ParseSpec("0 8 * * *", "Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	next := s.Next(time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("08:00 Shanghai after midnight UTC = %v, want %v", next.UTC(), want)
	}
}

func TestRunNowNoOverlapAndPanics(t *testing.T) {
	s := schedule.New("Asia/Shanghai", quiet())
	release := make(chan struct{})
	var started atomic.Int32
	if err := s.Add(schedule.Job{Name: "slow", Spec: "@yearly", Run: func(ctx context.Context) (int, error) {
		started.Add(1)
		<-release
		return 3, nil
	}}); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	if err := s.Add(schedule.Job{Name: "boom", Spec: "@yearly", Run: func(ctx context.Context) (int, error) {
		if calls.Add(1) == 1 {
			panic("first run explodes")
		}
		return 1, nil
	}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Stop(context.Background())

	done := make(chan schedule.Run)
	go func() { r, _ := s.RunNow(context.Background(), "slow"); done <- r }()
	testwait.For(t, "slow job to start", func() bool { return started.Load() == 1 })
	if _, err := s.RunNow(context.Background(), "slow"); !errors.Is(err, schedule.ErrBusy) {
		t.Fatalf("second RunNow while running: err = %v, want ErrBusy", err)
	}
	close(release)
	if r := <-done; r.Status != "ok" || r.Count != 3 {
		t.Errorf("slow run = %+v", r)
	}
	st, _ := s.Status("slow")
	// The refused RunNow was told so (ErrBusy); skips count lost ticks of the schedule only.
	if st.Skips != 0 || st.Runs != 1 || started.Load() != 1 {
		t.Errorf("slow status: skips %d runs %d started %d; want 0 1 1", st.Skips, st.Runs, started.Load())
	}

	r, err := s.RunNow(context.Background(), "boom")
	if err != nil || r.Status != "failed" || !strings.Contains(r.Error, "first run explodes") {
		t.Fatalf("panicking run = %+v, %v", r, err)
	}
	r, err = s.RunNow(context.Background(), "boom")
	if err != nil || r.Status != "ok" {
		t.Fatalf("run after panic = %+v, %v", r, err)
	}
	st, _ = s.Status("boom")
	if st.Panics != 1 || st.Failures != 1 || len(st.History) != 2 {
		t.Errorf("boom status = %+v", st)
	}
}

func TestDeadlineFailsRun(t *testing.T) {
	s := schedule.New("UTC", quiet())
	s.Add(schedule.Job{Name: "stuck", Spec: "@yearly", Timeout: 50 * time.Millisecond, Run: func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, nil
	}})
	r, err := s.RunNow(context.Background(), "stuck")
	if err != nil || r.Status != "failed" || !strings.Contains(r.Error, "deadline") {
		t.Errorf("run past deadline = %+v, %v", r, err)
	}
}

func TestTicksRescheduleAndPause(t *testing.T) {
	s := schedule.New("UTC", quiet())
	var runs atomic.Int32
	if err := s.Add(schedule.Job{Name: "tick", Spec: "@every 1s", Run: func(ctx context.Context) (int, error) {
		runs.Add(1)
		return 0, nil
	}}); err != nil {
		t.Fatal(err)
	}
	s.Start()
	defer s.Stop(context.Background())
	testwait.For(t, "a scheduled run", func() bool { return runs.Load() >= 1 })

	if err := s.Reschedule("tick", "every minute"); err == nil {
		t.Fatal("invalid spec accepted")
	}
	st, _ := s.Status("tick")
	if st.Spec != "@every 1s" {
		t.Errorf("after invalid reschedule spec = %q, want the old one", st.Spec)
	}
	if err := s.Reschedule("tick", "@every 1h"); err != nil {
		t.Fatal(err)
	}
	st, _ = s.Status("tick")
	// @every ticks on a grid (see TestEveryTicksOnAGrid): the next full hour of the job's zone.
	if until := time.Until(st.Next); until <= 0 || until > time.Hour || !st.Next.Truncate(time.Hour).Equal(st.Next) {
		t.Errorf("next run after reschedule to 1h is %v, in %v", st.Next, until)
	}
	if err := s.SetPaused("tick", true); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Status("tick"); !st.Paused || !st.Next.IsZero() {
		t.Errorf("paused %v, next run %v; want paused and none", st.Paused, st.Next)
	}
	if err := s.SetPaused("tick", false); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Status("tick"); st.Paused || st.Next.IsZero() {
		t.Errorf("resumed: paused %v, next run %v; want a next run", st.Paused, st.Next)
	}
	if _, err := s.Status("nope"); !errors.Is(err, schedule.ErrUnknownJob) {
		t.Errorf("unknown job: err = %v", err)
	}
}

// robfig/cron alone skips a daily job whose time falls in the spring-forward gap.
func TestDSTGapDoesNotDropDailyJob(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		spec string
		want []string // successive runs, Berlin local time
	}{
		{"CRON_TZ=Europe/Berlin 30 2 * * *", []string{"2026-03-28 02:30 CET", "2026-03-29 03:30 CEST", "2026-03-30 02:30 CEST"}},
		{"CRON_TZ=Europe/Berlin 0 8 * * *", []string{"2026-03-28 08:00 CET", "2026-03-29 08:00 CEST", "2026-03-30 08:00 CEST"}},
		// Autumn: 02:30 happens twice, the job runs once.
		{"CRON_TZ=Europe/Berlin 30 2 * * *", nil},
	}
	for i, tt := range tests {
		s, err := schedule.ParseSpec(tt.spec, "Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		if tt.want == nil {
			start := time.Date(2026, 10, 24, 12, 0, 0, 0, berlin)
			var runs []time.Time
			for next := s.Next(start); next.Before(time.Date(2026, 10, 27, 0, 0, 0, 0, berlin)); next = s.Next(next) {
				runs = append(runs, next)
			}
			if len(runs) != 2 {
				t.Errorf("case %d: autumn runs %v, want one per day", i, runs)
			}
			continue
		}
		next := time.Date(2026, 3, 27, 12, 0, 0, 0, berlin)
		for _, want := range tt.want {
			next = s.Next(next)
			if got := next.In(berlin).Format("2006-01-02 15:04 MST"); got != want {
				t.Errorf("case %d (%s): run %s, want %s", i, tt.spec, got, want)
			}
		}
	}
}

func TestMissed(t *testing.T) {
	hourly, _ := schedule.ParseSpec("0 * * * *", "UTC")
	every, _ := schedule.ParseSpec("@every 1s", "UTC")
	at := func(h, m int) time.Time { return time.Date(2026, 11, 29, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		spec     schedule.Spec
		last     time.Time
		now      time.Time
		deadline time.Duration
		want     bool
	}{
		{"never ran", hourly, time.Time{}, at(10, 30), 0, false},
		{"no tick since", hourly, at(10, 0), at(10, 59), 0, false},
		{"one missed", hourly, at(9, 0), at(10, 30), 0, true},
		{"many missed, newest within deadline", hourly, at(1, 0), at(10, 30), time.Hour, true},
		{"newest miss past deadline", hourly, at(1, 0), at(10, 30), 10 * time.Minute, false},
		{"very frequent spec, long outage", every, at(1, 0), at(10, 30), time.Minute, true},
	}
	for _, tt := range tests {
		if got := schedule.Missed(tt.spec, tt.last, tt.now, tt.deadline); got != tt.want {
			t.Errorf("%s: Missed = %v, want %v", tt.name, got, tt.want)
		}
	}
}
