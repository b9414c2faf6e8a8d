package schedule

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Spec is a parsed cron specification.
type Spec struct {
	Raw      string // as the operator wrote it
	Location *time.Location
	cron.Schedule
}

// parsed memoises ParseSpec: every build parses its channel's spec for the TTL, and a tick of a
// thousand channels would otherwise read zoneinfo and run robfig's parser a thousand times.
// Specs and schedules are immutable, so one value serves every caller. Only valid specs are kept,
// and at most maxParsed of them: operators submit specs through the API, and a bad or endless
// stream of them must not grow the process.
var parsed struct {
	sync.Mutex
	m map[[2]string]Spec
}

const maxParsed = 4096

// MaxSpecBytes bounds a cron spec. The longest sensible one (a zone and five lists) is about
// 200 bytes; a spec is stored, kept parsed and listed in every job status, so a 60 KB list of
// the same minute must not be accepted just because robfig/cron parses it.
const MaxSpecBytes = 256

// ParseSpec parses a five-field cron spec, a descriptor (@hourly, @every 90s) or either behind a
// CRON_TZ= (or TZ=) prefix. Without a prefix the spec runs in defaultTZ. robfig/cron v3 is
// unmaintained and panics on some inputs (e.g. "TZ=0", "TZ=TZ="), so a panic becomes an error.
func ParseSpec(spec, defaultTZ string) (Spec, error) {
	key := [2]string{spec, defaultTZ}
	parsed.Lock()
	s, ok := parsed.m[key]
	parsed.Unlock()
	if ok {
		return s, nil
	}
	s, err := parseSpec(spec, defaultTZ)
	if err != nil {
		return s, err
	}
	parsed.Lock()
	if parsed.m == nil {
		parsed.m = map[[2]string]Spec{}
	}
	if len(parsed.m) < maxParsed {
		parsed.m[key] = s
	}
	parsed.Unlock()
	return s, nil
}

func parseSpec(spec, defaultTZ string) (s Spec, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid cron spec %q: %v", spec, r)
		}
	}()
	raw := strings.TrimSpace(spec)
	if raw == "" {
		return Spec{}, fmt.Errorf("empty cron spec")
	}
	if len(raw) > MaxSpecBytes {
		return Spec{}, fmt.Errorf("cron spec of %d bytes: at most %d", len(raw), MaxSpecBytes)
	}
	full, tz := raw, defaultTZ
	if strings.HasPrefix(raw, "TZ=") || strings.HasPrefix(raw, "CRON_TZ=") {
		_, rest, _ := strings.Cut(raw, "=")
		name, body, ok := strings.Cut(rest, " ")
		if !ok || strings.TrimSpace(body) == "" {
			return Spec{}, fmt.Errorf("invalid cron spec %q: a time zone prefix needs a schedule after it", spec)
		}
		// An empty name would be UTC and "Local" each replica's own zone: neither is what
		// an operator who wrote a prefix meant, and replicas could disagree.
		if name == "" || name == "Local" {
			return Spec{}, fmt.Errorf("invalid cron spec %q: time zone %q: name an IANA zone such as Asia/Shanghai or UTC", spec, name)
		}
		tz = name
	} else {
		full = "CRON_TZ=" + defaultTZ + " " + raw
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return Spec{}, fmt.Errorf("invalid cron spec %q: unknown time zone %q", spec, tz)
	}
	_, fields, _ := strings.Cut(full, " ")
	if err := checkSteps(fields); err != nil {
		return Spec{}, fmt.Errorf("invalid cron spec %q: %w", spec, err)
	}
	if err := checkEvery(fields); err != nil {
		return Spec{}, fmt.Errorf("invalid cron spec %q: %w", spec, err)
	}
	sched, err := parser.Parse(full)
	if err != nil {
		return Spec{}, fmt.Errorf("invalid cron spec %q: %w", spec, err)
	}
	// robfig looks five years ahead and returns the zero time when nothing matches ("0 0 30 2 *"):
	// a job that would never run, and show year 1 as its next run.
	if sched.Next(time.Now()).IsZero() {
		return Spec{}, fmt.Errorf("invalid cron spec %q: never runs (no matching time in the next five years)", spec)
	}
	switch s := sched.(type) {
	case *cron.SpecSchedule:
		sched = newWallClock(s)
	case cron.ConstantDelaySchedule:
		sched = newEveryGrid(s, loc)
	}
	return Spec{Raw: raw, Location: loc, Schedule: sched}, nil
}

// Interval estimates the gap between two runs after t, which feeds use as their TTL.
func (s Spec) Interval(t time.Time) time.Duration {
	next := s.Next(t)
	return s.Next(next).Sub(next)
}

// checkEvery rejects "@every D" under a second, which robfig/cron would run every second, zero and
// negatives included. (It rounds longer ones down to whole seconds; every_test.go keeps that.)
func checkEvery(fields string) error {
	rest, ok := strings.CutPrefix(fields, "@every ")
	if !ok {
		return nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(rest))
	if err != nil {
		return nil // the parser names it
	}
	if d < time.Second {
		return fmt.Errorf("@every %s: the interval must be at least 1s", d)
	}
	return nil
}
