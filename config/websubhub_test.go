package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/config"
)

// The built-in hub's keys: safe defaults (on, internal callbacks refused), from file and
// environment, and rejected when they cannot work.
func TestWebSubHubKeys(t *testing.T) {
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	w := c.WebSub
	if !w.Builtin || w.AllowPrivate || w.LeaseDefault.D() != 10*24*time.Hour || w.LeaseMax.D() != 30*24*time.Hour ||
		w.MaxPerTopic != 10000 || w.MaxPerHost != 100 || w.HubRatePerMinute != 60 || w.HubBurst != 10 || w.HubInFlight != 64 {
		t.Errorf("defaults %+v", w)
	}
	for _, tc := range []struct {
		name, file string
		env        []string
		check      func(config.WebSub) bool
		err        string
	}{
		{"file", "websub:\n  builtin: false\n  lease_default: 1h\n  lease_max: 2d\n", nil,
			func(w config.WebSub) bool {
				return !w.Builtin && w.LeaseDefault.D() == time.Hour && w.LeaseMax.D() == 48*time.Hour
			}, ""},
		{"env", "", []string{"SYNDICATE_WEBSUB_ALLOW_PRIVATE=true", "SYNDICATE_WEBSUB_MAX_PER_HOST=3"},
			func(w config.WebSub) bool { return w.AllowPrivate && w.MaxPerHost == 3 }, ""},
		{"default over max", "websub:\n  lease_default: 40d\n", nil, nil, "websub.lease_default"},
		{"tiny max", "websub:\n  lease_max: 10s\n  lease_default: 10s\n", nil, nil, "websub.lease_max"},
		{"no rate", "", []string{"SYNDICATE_WEBSUB_HUB_RATE_PER_MINUTE=0"}, nil, "websub.hub_rate_per_minute"},
		{"no slots", "", []string{"SYNDICATE_WEBSUB_HUB_IN_FLIGHT=0"}, nil, "websub.hub_in_flight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.file != "" {
				path = writeFile(t, tc.file)
			}
			c, err := config.Load(path, tc.env)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c.WebSub) {
				t.Errorf("websub %+v", c.WebSub)
			}
		})
	}
}
