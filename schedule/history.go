package schedule

import (
	"slices"
	"strings"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// historyNote tells API readers that the history shown is not the stored one.
const historyNote = "the store did not answer: history shows this replica's runs since it started"

// WithHistory puts the stored runs, with this replica's not yet written ones over them, into the
// job's status as its history (newest first, at most limit, without the run in progress here)
// and its previous run, all in loc, the job's zone. When the store could not be read (readErr), the
// scheduler's own history of this process stays, with a note.
func (l *RunLog) WithHistory(st Status, stored []store.JobRun, loc *time.Location, limit int, readErr error) Status {
	if st.Current != nil {
		st.Current.Replica = l.replica
	}
	if readErr != nil {
		st.HistoryNote = historyNote
		for i := range st.History {
			st.History[i].Replica = l.replica
		}
		return st
	}
	byID := map[string]store.JobRun{}
	for _, r := range stored {
		byID[r.ID] = r
	}
	for id, r := range l.unsure(st.Name) {
		byID[id] = r
	}
	// The scheduler's own finished runs win too: the writer may have stored a run's end and
	// dropped it from pendingRuns between the store read and now, leaving the read's "running".
	for _, r := range st.History {
		if old, ok := byID[r.ID]; ok && old.Status == store.RunRunning && r.Status != StatusRunning {
			byID[r.ID] = StoredRun(st.Name, l.replica, r)
		}
	}
	if st.Current != nil {
		delete(byID, st.Current.ID)
	}
	runs := make([]store.JobRun, 0, len(byID))
	for _, r := range byID {
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(x, y store.JobRun) int {
		if c := y.Start.Compare(x.Start); c != 0 {
			return c
		}
		return strings.Compare(y.ID, x.ID)
	})
	if len(runs) > limit {
		runs = runs[:limit]
	}
	now := time.Now()
	st.History = make([]Run, 0, len(runs))
	st.Previous, st.LastStatus, st.LastError, st.LastDuration = nil, "", "", 0
	for _, r := range runs {
		run := FromStored(r, loc, now)
		st.History = append(st.History, run)
		if st.Previous == nil && run.Status != StatusRunning {
			start := run.Start
			st.Previous = &start
			st.LastStatus, st.LastError = run.Status, run.Error
			if !run.End.IsZero() {
				st.LastDuration = run.End.Sub(run.Start).Seconds()
			}
		}
	}
	return st
}
