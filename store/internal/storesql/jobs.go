package storesql

import (
	"fmt"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// RunColumns are the job_runs columns ScanRuns reads, in order.
const RunColumns = `id, job, triggered_by, replica, started, ended, deadline, status, count, documents, events, error`

// ScanRuns reads rows of RunColumns; at converts the engine's times (T), zero for none.
func ScanRuns[T any](rows Rows, at func(T) time.Time) ([]store.JobRun, error) {
	var out []store.JobRun
	for rows.Next() {
		var r store.JobRun
		var start, end, deadline T
		if err := rows.Scan(&r.ID, &r.Job, &r.Trigger, &r.Replica, &start, &end, &deadline, &r.Status,
			&r.Count, &r.Documents, &r.Events, &r.Error); err != nil {
			return nil, fmt.Errorf("scan run: %w", err)
		}
		r.Start, r.End, r.Deadline = at(start), at(end), at(deadline)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ScanJobStates reads rows of (name, schedule, paused, last_run, updated_at) by job name; at
// converts the engine's times (T), zero for none.
func ScanJobStates[T any](rows Rows, at func(T) time.Time) (map[string]store.JobState, error) {
	out := map[string]store.JobState{}
	for rows.Next() {
		var j store.JobState
		var last, updated T
		if err := rows.Scan(&j.Name, &j.Schedule, &j.Paused, &last, &updated); err != nil {
			return nil, fmt.Errorf("scan job state: %w", err)
		}
		j.LastRun, j.UpdatedAt = at(last), at(updated)
		out[j.Name] = j
	}
	return out, rows.Err()
}
