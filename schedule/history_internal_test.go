package schedule

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// The history shown merges stored runs with this replica's unwritten ones (which win), newest
// first and cut at the limit; an unreadable store leaves this process's runs, with a note.
func TestWithHistory(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := NewRunLog(nil, "replica-1", store.Retention{}, quiet) // never started: nothing is written
	t0 := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	id := func(n string) string { return "01900000-0000-7000-8000-00000000000" + n }
	stored := []store.JobRun{
		{ID: id("1"), Job: "build:lingling", Replica: "replica-2", Start: t0, End: t0.Add(time.Second), Status: StatusOK},
		{ID: id("2"), Job: "build:lingling", Replica: "replica-2", Start: t0.Add(time.Hour), End: t0.Add(time.Hour + time.Second), Status: StatusFailed, Error: "boom"},
		{ID: id("3"), Job: "build:lingling", Replica: "replica-1", Start: t0.Add(2 * time.Hour), Deadline: t0.Add(3 * time.Hour), Status: store.RunRunning},
	}
	// This replica's newer state of run 3, not yet written.
	l.pending[id("3")] = pendingRun{run: store.JobRun{ID: id("3"), Job: "build:lingling", Replica: "replica-1",
		Start: t0.Add(2 * time.Hour), End: t0.Add(2*time.Hour + 2*time.Second), Status: StatusOK, Count: 4}}
	own := Status{Name: "build:lingling", History: []Run{{ID: "own", Start: t0, Status: StatusOK}}}

	tests := []struct {
		name     string
		limit    int
		readErr  error
		wantIDs  []string
		wantLast string
		wantNote bool
	}{
		{"merged", 10, nil, []string{id("3"), id("2"), id("1")}, StatusOK, false},
		{"limited", 2, nil, []string{id("3"), id("2")}, StatusOK, false},
		{"store unreadable", 10, errors.New("timeout"), []string{"own"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := own
			st.History = append([]Run(nil), own.History...)
			got := l.WithHistory(st, stored, time.UTC, tt.limit, tt.readErr)
			var ids []string
			for _, r := range got.History {
				ids = append(ids, r.ID)
			}
			if len(ids) != len(tt.wantIDs) {
				t.Fatalf("history %q, want %q", ids, tt.wantIDs)
			}
			for i := range ids {
				if ids[i] != tt.wantIDs[i] {
					t.Fatalf("history %q, want %q", ids, tt.wantIDs)
				}
			}
			if got.LastStatus != tt.wantLast {
				t.Errorf("last status %q, want %q", got.LastStatus, tt.wantLast)
			}
			if (got.HistoryNote != "") != tt.wantNote {
				t.Errorf("note %q, want one: %v", got.HistoryNote, tt.wantNote)
			}
			if tt.readErr != nil && got.History[0].Replica != "replica-1" {
				t.Errorf("own run's replica %q", got.History[0].Replica)
			}
		})
	}
}
