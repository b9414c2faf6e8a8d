package app_test

import (
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/schedule"
)

// PUT /api/jobs/{name} keeps the old schedule and answers 400 for a body with more after its
// object (which of the two schedules was meant?), for specs robfig/cron would run otherwise
// than written, and for a spec longer than any real one, which would be stored and listed on
// every GET /api/jobs.
func TestJobScheduleHostileInput(t *testing.T) {
	_, base := startService(t, t.TempDir(), jobsConfig)
	job := base + "/api/jobs/build:lingling"
	if code := api(t, "PUT", job, token, `{"schedule":"@every 2s"}`, nil); code != 200 {
		t.Fatalf("PUT @every 2s: %d", code)
	}
	long := strings.Repeat("0,", 30000) + "0 * * * *"
	for _, body := range []string{
		`{"schedule":"@hourly"}{"schedule":"@daily"}`,
		`{"schedule":"@hourly"} x`,
		`{"schedule":"@every 0s"}`,
		`{"schedule":"@every -1s"}`,
		`{"schedule":"0 0 30 2 *"}`,
		`{"schedule":"CRON_TZ=Local @hourly"}`,
		`{"schedule":"` + long + `"}`,
	} {
		if code := api(t, "PUT", job, token, body, nil); code != 400 {
			t.Errorf("PUT %.60s: %d, want 400", body, code)
		}
	}
	var st schedule.Status
	api(t, "GET", job, token, "", &st)
	if st.Spec != "@every 2s" {
		t.Errorf("a refused PUT changed the schedule to %.60q", st.Spec)
	}
}

// ?wait= in seconds past what a time.Duration holds is a long wait, shortened to MaxRunWait as
// documented, not "negative" (the float overflowed); NaN and infinities are not durations.
// A 409 means the start-up catch-up build (or the previous case's) still runs: try again.
func TestRunWaitHugeSeconds(t *testing.T) {
	_, base := startService(t, t.TempDir(), jobsConfig)
	run := base + "/api/jobs/build:all/run?wait=" // @hourly: no scheduled run in the way
	for _, v := range []string{"1e300", "9223372036.854775807", "1e12"} {
		var got schedule.Run
		code := whileBusy(t, "a run not overlapping the start-up catch-up", func() int {
			return api(t, "POST", run+v, token, "", &got)
		})
		if code != 200 || got.Status != "ok" {
			t.Errorf("wait=%s: %d %+v, want 200 with the outcome", v, code, got)
		}
	}
	for _, v := range []string{"NaN", "Inf", "-Inf", "infinity", "-1e300", "-1"} {
		if code := api(t, "POST", run+v, token, "", nil); code != 400 {
			t.Errorf("wait=%s: %d, want 400", v, code)
		}
	}
}
