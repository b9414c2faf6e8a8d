package schedule_test

import (
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/schedule"
)

// Specs robfig/cron accepts but does not run as written are refused, as steps wider than their
// field are: "@every 0s" and "@every -1s" would silently mean every second, "@every 1500ms" 1s,
// "0 0 30 2 *" never (its next run was shown as year 1), and CRON_TZ=Local or an empty zone
// depend on each replica's own settings.
func TestParseSpecRefusesWhatWouldNotRunAsWritten(t *testing.T) {
	tests := []struct{ spec, wantErr string }{
		{"@every 0s", "at least 1s"},
		{"@every -1s", "at least 1s"},
		{"@every 1ns", "at least 1s"},
		{"@every 999ms", "at least 1s"},
		{"CRON_TZ=UTC @every 0s", "at least 1s"},
		{"0 0 30 2 *", "never runs"},
		{"0 0 31 4 *", "never runs"},
		{"CRON_TZ=Local * * * * *", "time zone"},
		{"CRON_TZ= * * * * *", "time zone"},
		{"TZ= @hourly", "time zone"},
		{strings.Repeat("0,", 128) + "0 * * * *", "at most 256"},
	}
	for _, tt := range tests {
		_, err := schedule.ParseSpec(tt.spec, "Asia/Shanghai")
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseSpec(%q) = %v, want an error containing %q", tt.spec, err, tt.wantErr)
		}
	}
	for _, spec := range []string{"@every 1s", "@every 90s", "@every 100000h", "0 0 29 2 *", "CRON_TZ=UTC @every 2s", "@yearly"} {
		s, err := schedule.ParseSpec(spec, "Asia/Shanghai")
		if err != nil {
			t.Errorf("ParseSpec(%q): %v", spec, err)
			continue
		}
		if s.Next(time.Now()).IsZero() {
			t.Errorf("ParseSpec(%q): never runs", spec)
		}
	}
}
