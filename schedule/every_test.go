package schedule_test

import (
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/schedule"
)

// Every replica must compute the same ticks for an @every spec, whenever it started.
func TestEveryTicksOnAGrid(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		spec string
		from string // any instant; replicas call Next with their own clocks
		want string
	}{
		{"@every 2s", "2026-11-30T10:00:00Z", "2026-11-30T18:00:02+08:00"},
		{"@every 2s", "2026-11-30T10:00:00.001Z", "2026-11-30T18:00:02+08:00"},
		{"@every 2s", "2026-11-30T10:00:01Z", "2026-11-30T18:00:02+08:00"},
		{"@every 2s", "2026-11-30T10:00:01.999Z", "2026-11-30T18:00:02+08:00"},
		{"@every 90s", "2026-11-30T10:00:00Z", "2026-11-30T18:01:30+08:00"},
		{"@every 1h", "2026-11-30T10:17:03Z", "2026-11-30T19:00:00+08:00"},
		// Counted from midnight on the zone's wall clock, not from midnight UTC.
		{"@every 24h", "2026-11-30T10:17:03Z", "2026-12-01T00:00:00+08:00"},
		{"TZ=UTC @every 24h", "2026-11-30T10:17:03Z", "2026-12-01T00:00:00Z"},
		// The grid keeps the offset of 2000-01-01: DST moves local time, not the grid.
		{"CRON_TZ=Europe/Berlin @every 24h", "2026-12-15T10:00:00Z", "2026-12-16T00:00:00+01:00"},
		{"CRON_TZ=Europe/Berlin @every 24h", "2026-07-15T10:00:00Z", "2026-07-16T01:00:00+02:00"},
		{"CRON_TZ=Australia/Sydney @every 24h", "2026-07-15T10:00:00Z", "2026-07-15T23:00:00+10:00"},
		{"@every 1500ms", "2026-11-30T10:00:00Z", "2026-11-30T18:00:01+08:00"}, // robfig rounds to 1s
		{"@every 7s", "1969-12-31T23:59:50Z", "1970-01-01T07:59:51+08:00"},
		{"@every 7s", "1969-12-31T15:59:50Z", "1969-12-31T23:59:53+08:00"}, // before the origin
		{"@every 7s", "1969-12-31T15:59:53Z", "1970-01-01T00:00:00+08:00"}, // on a tick: the next one
	}
	for _, tt := range tests {
		t.Run(tt.spec+" from "+tt.from, func(t *testing.T) {
			s, err := schedule.ParseSpec(tt.spec, "Asia/Shanghai")
			if err != nil {
				t.Fatal(err)
			}
			got := s.Next(at(tt.from))
			if got.Format(time.RFC3339Nano) != tt.want {
				t.Errorf("Next = %s, want %s", got.Format(time.RFC3339Nano), tt.want)
			}
		})
	}
	// Consecutive ticks are one period apart and carry the job's zone.
	s, _ := schedule.ParseSpec("@every 2s", "Asia/Shanghai")
	tick := s.Next(at("2026-11-30T10:00:00.5Z"))
	for range 5 {
		next := s.Next(tick)
		if next.Sub(tick) != 2*time.Second || next.Location().String() != shanghai.String() {
			t.Fatalf("after %s came %s", tick, next)
		}
		tick = next
	}
}
