package store

import (
	"context"
	"time"
)

// RunHistory keeps every job's runs where all replicas read them, so that "did the 08:00 build
// run, where, for how long, with what error" has one answer after restarts and deploys.
type RunHistory interface {
	// SaveRuns inserts runs or updates them by id, in order and in one transaction (a thousand
	// channels' builds start and end together: one transaction each would keep the writer busy
	// from one tick to the next). A finished run is never updated again, so a late write of its
	// start (a retry that outlived the run) cannot make it running again. Saving a finished run
	// prunes its job's history to keep. In the same transaction, each run's start becomes its
	// job's last run (JobState.LastRun) unless a later one is recorded: runs are pruned, the
	// last run is kept for start-up catch-up. An error saves none of them.
	SaveRuns(ctx context.Context, runs []JobRun, keep Retention, now time.Time) error
	// JobRuns returns up to limit of a job's runs, newest start first.
	JobRuns(ctx context.Context, job string, limit int) ([]JobRun, error)
	// RecentRuns returns, by job name, up to perJob of each job's runs, newest start first.
	RecentRuns(ctx context.Context, perJob int) (map[string][]JobRun, error)
	// JobRun returns one run of a job; ENOTFOUND when there is none (it may have been pruned).
	JobRun(ctx context.Context, job, id string) (JobRun, error)
}

// JobRun is one run of a job as the store keeps it. Times are UTC.
type JobRun struct {
	ID      string // a UUIDv7, unique across replicas
	Job     string
	Trigger string // schedule or manual
	Replica string // the process that ran it
	Start   time.Time
	End     time.Time // zero while running
	// Deadline is when the run's context expires: a run still marked running after it was left
	// by a replica that died (see Abandoned).
	Deadline  time.Time
	Status    string // running, ok or failed
	Count     int    // items built or fetched
	Documents int    // feed documents written
	Events    int    // outbox events written
	Error     string
}

// Run statuses the store keeps, and RunAbandoned, which it never keeps but readers compute.
const (
	RunRunning   = "running"
	RunOK        = "ok"
	RunFailed    = "failed"
	RunAbandoned = "abandoned"
)

// Abandoned reports whether the run is marked running past its deadline: the replica running it
// died or lost the store before it could record the end, and nothing will end it now.
func (r JobRun) Abandoned(now time.Time) bool {
	return r.Status == RunRunning && !r.Deadline.IsZero() && now.After(r.Deadline)
}

// Retention bounds each job's run history: its Keep newest runs, none older than MaxAge.
type Retention struct {
	Keep   int
	MaxAge time.Duration
}
