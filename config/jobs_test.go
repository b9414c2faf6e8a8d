package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/config"
)

func TestJobsHistoryKeys(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		keep       int
		maxAge     time.Duration
		err        string // a part of the error, "" for none
	}{
		{name: "defaults", keep: 100, maxAge: 30 * 24 * time.Hour},
		{name: "file", file: "jobs: {history: {keep: 7, max_age: 2d}}", keep: 7, maxAge: 48 * time.Hour},
		{name: "environment", env: []string{"SYNDICATE_JOBS_HISTORY_KEEP=12", "SYNDICATE_JOBS_HISTORY_MAX_AGE=90m"}, keep: 12, maxAge: 90 * time.Minute},
		{name: "keep 0", file: "jobs: {history: {keep: 0}}", err: "jobs.history.keep"},
		{name: "max_age too short", env: []string{"SYNDICATE_JOBS_HISTORY_MAX_AGE=10s"}, err: "jobs.history.max_age"},
		{name: "unknown key", file: "jobs: {history: {kept: 3}}", err: "unknown key jobs.history.kept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			c, err := config.Load(path, tt.env)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one naming %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Jobs.History.Keep != tt.keep || c.Jobs.History.MaxAge.D() != tt.maxAge {
				t.Errorf("jobs.history = %+v, want keep %d max_age %v", c.Jobs.History, tt.keep, tt.maxAge)
			}
		})
	}
}
