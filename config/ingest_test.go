package config_test

import (
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/config"
)

func TestIngestSafetyKeys(t *testing.T) {
	c, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ingest.AllowPrivate {
		t.Errorf("defaults: allow_private %v, want false", c.Ingest.AllowPrivate)
	}
	for _, tc := range []struct {
		name, file string
		env        []string
		private    bool
		err        string
	}{
		{"file", "ingest:\n  allow_private: true\n", nil, true, ""},
		{"env", "", []string{"SYNDICATE_INGEST_ALLOW_PRIVATE=true"}, true, ""},
		{"bad switch", "", []string{"SYNDICATE_INGEST_ALLOW_PRIVATE=perhaps"}, false, "SYNDICATE_INGEST_ALLOW_PRIVATE"},
		// One horizon for every door: ingest has no key of its own.
		{"no ingest horizon", "ingest:\n  future_horizon: 2h\n", nil, false, "future_horizon"},
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
			if c.Ingest.AllowPrivate != tc.private {
				t.Errorf("allow_private %v", c.Ingest.AllowPrivate)
			}
		})
	}
}
