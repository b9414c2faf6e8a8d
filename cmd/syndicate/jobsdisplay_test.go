package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/schedule"
)

// `jobs list` and `jobs show` print every time in the job's zone with its offset, whatever
// zone the API gave it in and wherever the CLI runs.
func TestJobsPrintTimesInTheJobsZone(t *testing.T) {
	tests := []struct {
		name string
		tz   string // the job's zone, as the API names it
		at   string // a time as the API sends it
		want string
	}{
		{"API in the job's zone", "Asia/Shanghai", "2026-11-30T18:00:02+08:00", "2026-11-30 18:00:02 +08:00"},
		{"API in UTC", "Asia/Shanghai", "2026-11-30T10:00:02Z", "2026-11-30 18:00:02 +08:00"},
		{"UTC job", "UTC", "2026-11-30T18:00:02+08:00", "2026-11-30 10:00:02 +00:00"},
		{"daylight saving", "America/New_York", "2026-07-01T12:00:00Z", "2026-07-01 08:00:00 -04:00"},
		{"standard time", "America/New_York", "2026-11-30T12:00:00Z", "2026-11-30 07:00:00 -05:00"},
		{"unknown zone keeps the API's offset", "Mars/Olympus", "2026-11-30T18:00:02+08:00", "2026-11-30 18:00:02 +08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := mustTime(t, tt.at)
			if got := when(&at, tt.tz); got != tt.want {
				t.Errorf("when = %q, want %q", got, tt.want)
			}
			// As `jobs show` reads it from the API: NEXT, PREVIOUS, and the runs' START and END.
			var st schedule.Status
			body := `{"name":"build:lingling","schedule":"@every 2s","timezone":"` + tt.tz + `","next_run":"` + tt.at +
				`","previous_run":"` + tt.at + `","last_status":"ok","history":[{"id":"r1","trigger":"schedule","replica":"web-1","start":"` +
				tt.at + `","end":"` + tt.at + `","status":"ok","count":3,"documents":3,"events":2}]}`
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := printJob(&out, st); err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(out.String(), tt.want); n != 4 {
				t.Errorf("%q printed %d times, want 4 (next, previous, start, end):\n%s", tt.want, n, out.String())
			}
			if !strings.Contains(out.String(), "web-1") {
				t.Errorf("the run's replica is not shown:\n%s", out.String())
			}
		})
	}
	if got := when(nil, "UTC"); got != "-" {
		t.Errorf("no time: %q", got)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
