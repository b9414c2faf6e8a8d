package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/config"
)

func TestIngestSafetyKeys(t *testing.T) {
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ingest.AllowPrivate || c.Ingest.FutureHorizon.D() != 24*time.Hour {
		t.Errorf("defaults: allow_private %v, future_horizon %s; want false and 24h", c.Ingest.AllowPrivate, c.Ingest.FutureHorizon.D())
	}
	for _, tc := range []struct {
		name, file string
		env        []string
		private    bool
		horizon    time.Duration
		err        string
	}{
		{"file", "ingest:\n  allow_private: true\n  future_horizon: 2h\n", nil, true, 2 * time.Hour, ""},
		{"env", "", []string{"SYNDICATE_INGEST_ALLOW_PRIVATE=true", "SYNDICATE_INGEST_FUTURE_HORIZON=90m"}, true, 90 * time.Minute, ""},
		{"negative horizon", "ingest:\n  future_horizon: -1h\n", nil, false, 0, `"-1h" is not a duration`},
		{"bad switch", "", []string{"SYNDICATE_INGEST_ALLOW_PRIVATE=perhaps"}, false, 0, "SYNDICATE_INGEST_ALLOW_PRIVATE"},
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
			if c.Ingest.AllowPrivate != tc.private || c.Ingest.FutureHorizon.D() != tc.horizon {
				t.Errorf("allow_private %v, future_horizon %s", c.Ingest.AllowPrivate, c.Ingest.FutureHorizon.D())
			}
		})
	}
}
