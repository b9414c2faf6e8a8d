package config

import (
	"fmt"
	"time"
)

// Jobs configures what is kept about job runs.
type Jobs struct {
	History JobsHistory `yaml:"history"`
}

// JobsHistory bounds each job's run history in the store: its Keep newest runs, none that
// started more than MaxAge ago.
type JobsHistory struct {
	Keep   int      `yaml:"keep"`
	MaxAge Duration `yaml:"max_age"`
}

func (j Jobs) check() error {
	switch {
	case j.History.Keep < 1:
		return fmt.Errorf("jobs.history.keep: must be at least 1")
	case j.History.MaxAge.D() < time.Minute:
		return fmt.Errorf("jobs.history.max_age: must be at least 1m")
	}
	return nil
}
