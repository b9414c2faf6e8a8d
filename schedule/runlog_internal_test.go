package schedule

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// The run log writes a run's newest state and the job's last start, and a store that refuses
// every write does not hold shutdown past closeTimeout.
func TestRunLogWrites(t *testing.T) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	keep := store.Retention{Keep: 10, MaxAge: time.Hour}
	tests := []struct {
		name   string
		closed bool // the store is closed before the runs are recorded: every write fails
	}{
		{"store answers", false},
		{"store refuses", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "syndicate.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if tt.closed {
				st.Close()
			}
			l := NewRunLog(st, "replica-1", keep, quiet)
			start := time.Now().Truncate(time.Microsecond)
			r := Run{ID: "01900000-0000-7000-8000-000000000001", Trigger: "schedule", Start: start, Deadline: start.Add(time.Minute), Status: StatusRunning}
			l.Record("build:lingling", r)
			r.End, r.Status, r.Count, r.Changes = start.Add(time.Second), StatusOK, 4, Changes{Documents: 3, Events: 1}
			l.Record("build:lingling", r)
			began := time.Now()
			l.Close(ctx)
			if took := time.Since(began); took > closeTimeout+time.Second {
				t.Errorf("close took %v", took)
			}
			if tt.closed {
				if n := l.pendingCount(); n != 0 {
					t.Errorf("%d runs still pending: a refused run is dropped after %d tries", n, maxRefusals)
				}
				return
			}
			got, err := st.JobRun(ctx, "build:lingling", r.ID)
			want := store.JobRun{ID: r.ID, Job: "build:lingling", Trigger: "schedule", Replica: "replica-1", Start: start.UTC(),
				End: r.End.UTC(), Deadline: r.Deadline.UTC(), Status: "ok", Count: 4, Documents: 3, Events: 1}
			if err != nil || got != want {
				t.Errorf("stored %+v, %v; want %+v", got, err, want)
			}
			states, err := st.JobStates(ctx)
			if err != nil || !states["build:lingling"].LastRun.Equal(start) {
				t.Errorf("last run %v, %v; want %v", states["build:lingling"].LastRun, err, start)
			}
		})
	}
}

// A history read merges the store's runs with the run log's. A run whose write commits after the reader's
// store read began is in neither unless the log keeps it a while after the write: then the jobs
// API showed one run fewer than had finished (seen in CI).
func TestRunLogPendingKeepsJustWrittenRuns(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l := NewRunLog(st, "replica-1", store.Retention{Keep: 10, MaxAge: time.Hour}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer l.Close(ctx)
	start := time.Now()
	r := Run{ID: "01900000-0000-7000-8000-000000000002", Trigger: "manual", Start: start, End: start.Add(time.Millisecond), Status: StatusFailed, Error: "boom"}
	l.Record("ingest:local", r)
	testwait.For(t, "the run to be written", func() bool { return l.pendingCount() == 0 })
	if _, ok := l.unsure("ingest:local")[r.ID]; !ok {
		t.Fatalf("a run written just now is missing from unsure: %v", l.unsure("ingest:local"))
	}
	if _, ok := l.Pending("ingest:local")[r.ID]; ok {
		t.Error("a written run is still pending: a run lookup would find it after the store pruned it")
	}
	if got := l.unsure("build:other"); len(got) != 0 {
		t.Errorf("unsure of another job = %v", got)
	}
	// Past the grace, it is the store's alone.
	l.mu.Lock()
	w := l.written[r.ID]
	w.at = w.at.Add(-writtenGrace - time.Second)
	l.written[r.ID] = w
	l.mu.Unlock()
	if _, ok := l.unsure("ingest:local")[r.ID]; ok {
		t.Error("a run written long ago is still unsure")
	}
}

// refusingRuns refuses, whole, every batch with a run of the job bad in it, and blocks every
// write while hold is open.
type refusingRuns struct {
	RunStore
	bad  string
	hold chan struct{}
}

func (r refusingRuns) SaveRuns(ctx context.Context, runs []store.JobRun, keep store.Retention, now time.Time) error {
	select {
	case <-r.hold:
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, run := range runs {
		if run.Job == r.bad {
			return errors.New("refused")
		}
	}
	return r.RunStore.SaveRuns(ctx, runs, keep, now)
}

// Record never waits for the store, and a run the store refuses (retried until its maxRefusals-th
// refusal, then dropped) does not hold up the runs of its batch.
func TestRunLogRefusedRunHoldsUpNoOther(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hold := make(chan struct{})
	l := NewRunLog(refusingRuns{RunStore: st, bad: "build:bad", hold: hold}, "replica-1", store.Retention{Keep: 10, MaxAge: time.Hour}, slog.New(slog.DiscardHandler))
	defer l.Close(ctx)
	start := time.Now()
	var ids []string
	for i, job := range []string{"build:a", "build:bad", "build:b"} {
		id := fmt.Sprintf("01900000-0000-7000-8000-00000000000%d", i)
		ids = append(ids, id)
		l.Record(job, Run{ID: id, Trigger: "schedule", Start: start, End: start.Add(time.Second), Status: StatusOK}) // returns though the store holds every write
	}
	close(hold)
	testwait.For(t, "the runs of the batch the store did not refuse written", func() bool {
		return len(l.Pending("build:a")) == 0 && len(l.Pending("build:b")) == 0
	})
	for i, job := range []string{"build:a", "build:b"} {
		if _, err := st.JobRun(ctx, job, ids[2*i]); err != nil {
			t.Errorf("run of %s: %v", job, err)
		}
	}
	if len(l.Pending("build:bad")) != 1 {
		t.Errorf("the refused run is not pending: it is retried until its %d-th refusal", maxRefusals)
	}
}
