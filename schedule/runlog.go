package schedule

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// History write bounds. A write gets writeTimeout: the store may be the thing that hangs, and
// the run it records must still end, and the next tick start, on time. A failed write is
// retried after retryMin, doubling up to retryMax, while it stays pending here.
const (
	writeTimeout = 5 * time.Second
	retryMin     = 250 * time.Millisecond
	retryMax     = 30 * time.Second
	// maxPending bounds what a long store outage keeps in memory: the oldest finished runs go.
	maxPending = 10_000
	// maxRefusals is how often the store may refuse one run (an error other than a timeout)
	// before the run is dropped, so that one bad row cannot hold up the history for good.
	maxRefusals = 10
	// closeTimeout bounds the last writes at shutdown when the store does not answer.
	closeTimeout = 2 * writeTimeout
)

// RunStore is what the run log needs of the store: the runs, which also record each job's last
// start (for catch-up after downtime).
type RunStore interface {
	SaveRuns(ctx context.Context, runs []store.JobRun, keep store.Retention, now time.Time) error
}

// RunLog writes job runs to the store behind the scheduler's back: Record never waits on the
// store, and a run's newest state waits in pending until a write of it succeeds. Readers see
// pending runs over the stored ones, so this replica never shows less than it knows.
type RunLog struct {
	store   RunStore
	replica string
	keep    store.Retention
	log     *slog.Logger

	mu      sync.Mutex
	pending map[string]pendingRun // by run id
	// written holds runs for writtenGrace after their write succeeded: a reader whose store read
	// began before that write committed finds them neither there nor in pending otherwise.
	written map[string]writtenRun
	pruned  time.Time // when written last dropped its old runs
	wake    chan struct{}
	start   sync.Once
	stop    context.CancelFunc
	done    chan struct{}
}

// writtenGrace outlasts the longest history read Service makes (historyReadTimeout).
const writtenGrace = 10 * time.Second

type writtenRun struct {
	run store.JobRun
	at  time.Time
}

type pendingRun struct {
	run      store.JobRun
	refusals int // failed writes that were not timeouts
}

// NewRunLog returns the run log of replica, keeping keep of each job's history.
func NewRunLog(st RunStore, replica string, keep store.Retention, log *slog.Logger) *RunLog {
	return &RunLog{store: st, replica: replica, keep: keep, log: log,
		pending: map[string]pendingRun{}, written: map[string]writtenRun{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Record is the scheduler's Record hook: it queues the run's state and returns at once.
func (l *RunLog) Record(job string, r Run) {
	l.start.Do(func() {
		ctx, stop := context.WithCancel(context.Background())
		l.stop = stop
		go l.loop(ctx)
	})
	l.mu.Lock()
	prev := l.pending[r.ID]
	l.pending[r.ID] = pendingRun{run: StoredRun(job, l.replica, r), refusals: prev.refusals}
	if len(l.pending) > maxPending {
		l.dropOldest()
	}
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// dropOldest forgets the oldest finished run; l.mu must be held.
func (l *RunLog) dropOldest() {
	var oldest string
	for id, p := range l.pending {
		if p.run.Status != store.RunRunning && (oldest == "" || id < oldest) {
			oldest = id
		}
	}
	if oldest != "" {
		l.log.Warn("job run history: store unreachable too long, a run is not recorded", slog.String("job", l.pending[oldest].run.Job), slog.String("run", oldest))
		delete(l.pending, oldest)
	}
}

func (l *RunLog) loop(ctx context.Context) {
	defer close(l.done)
	wait := retryMin
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		}
		for !l.flush(ctx) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, retryMax)
		}
		wait = retryMin
	}
}

// flush writes every pending run, oldest first, in transactions of up to batchRuns, each under
// its own timeout; false when a write failed (what is left stays pending). A store that does not
// answer ends the pass. A batch the store refuses is written again run by run, so that one run it
// refuses does not hold up the others.
func (l *RunLog) flush(ctx context.Context) bool {
	l.mu.Lock()
	pending := make([]pendingRun, 0, len(l.pending))
	for _, p := range l.pending {
		pending = append(pending, p)
	}
	l.mu.Unlock()
	// UUIDv7 ids sort by start, so a job's history is pruned in run order.
	slices.SortFunc(pending, func(a, b pendingRun) int { return strings.Compare(a.run.ID, b.run.ID) })
	ok := true
	for batch := range slices.Chunk(pending, batchRuns) {
		err := l.write(ctx, batch)
		if err == nil {
			l.saved(batch)
			continue
		}
		ok = false
		if l.deferred(ctx, err, batch[0]) {
			return false
		}
		for _, p := range batch {
			if err := l.write(ctx, []pendingRun{p}); err != nil {
				if l.deferred(ctx, err, p) {
					return false
				}
				l.refused(p, err)
				continue
			}
			l.saved([]pendingRun{p})
		}
	}
	return ok
}

// batchRuns bounds the runs one history transaction writes.
const batchRuns = 500

// deferred reports whether err means the store is not answering (or the log is closing), and
// logs it: then the pass ends and everything left waits for the next.
func (l *RunLog) deferred(ctx context.Context, err error, p pendingRun) bool {
	if ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// Closing (a shutdown): nothing is wrong with the store, and the close writes what is left.
		l.log.Debug("job run history: closing, write left to the close", slog.String("job", p.run.Job), slog.String("run", p.run.ID))
		return true
	}
	l.log.Warn("job run history: store not answering, write deferred", slog.String("job", p.run.Job), slog.String("run", p.run.ID), slog.Any("error", err))
	return true
}

// saved drops the runs written from pending, unless a newer state of one came meanwhile.
func (l *RunLog) saved(batch []pendingRun) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range batch {
		if cur, ok := l.pending[p.run.ID]; ok && cur.run == p.run {
			delete(l.pending, p.run.ID)
			l.remember(p.run)
		}
	}
}

// remember keeps a written run for writtenGrace and forgets older ones; l.mu must be held.
func (l *RunLog) remember(r store.JobRun) {
	now := time.Now()
	if now.Sub(l.pruned) > writtenGrace {
		for id, w := range l.written {
			if now.Sub(w.at) > writtenGrace {
				delete(l.written, id)
			}
		}
		l.pruned = now
	}
	l.written[r.ID] = writtenRun{run: r, at: now}
}

// refused counts a write the store refused, and drops the run after maxRefusals.
func (l *RunLog) refused(p pendingRun, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur, ok := l.pending[p.run.ID]
	if !ok {
		return
	}
	cur.refusals++
	if cur.refusals < maxRefusals {
		l.pending[p.run.ID] = cur
		l.log.Warn("job run history: write failed, will retry", slog.String("job", p.run.Job), slog.String("run", p.run.ID), slog.Any("error", err))
		return
	}
	delete(l.pending, p.run.ID)
	l.log.Error("job run history: run not recorded, the store refused it", slog.String("job", p.run.Job), slog.String("run", p.run.ID), slog.Any("error", err))
}

func (l *RunLog) write(ctx context.Context, batch []pendingRun) error {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	runs := make([]store.JobRun, len(batch))
	for i, p := range batch {
		runs[i] = p.run
	}
	return l.store.SaveRuns(ctx, runs, l.keep, time.Now())
}

// Close stops the writer and writes what is pending, for at most closeTimeout or until ctx ends.
func (l *RunLog) Close(ctx context.Context) {
	l.start.Do(func() { close(l.done) }) // never started: nothing to write
	if l.stop == nil {
		return
	}
	// The writer stops first: a write it had in flight is cancelled and stays pending.
	l.stop()
	<-l.done
	ctx, cancel := context.WithTimeout(ctx, closeTimeout)
	defer cancel()
	for !l.flush(ctx) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(retryMin):
		}
	}
	if n := l.pendingCount(); n > 0 {
		l.log.Error("job run history: runs not recorded at shutdown", slog.Int("runs", n))
	}
}

func (l *RunLog) pendingCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending)
}

// Pending returns the job's runs not yet written, by id.
func (l *RunLog) Pending(job string) map[string]store.JobRun {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]store.JobRun{}
	for id, p := range l.pending {
		if p.run.Job == job {
			out[id] = p.run
		}
	}
	return out
}

// unsure returns Pending and the runs written in the last writtenGrace: what a history read
// that raced the writes may have missed in the store.
func (l *RunLog) unsure(job string) map[string]store.JobRun {
	out := l.Pending(job)
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, w := range l.written {
		if _, ok := out[id]; !ok && w.run.Job == job && time.Since(w.at) <= writtenGrace {
			out[id] = w.run
		}
	}
	return out
}

// StoredRun is a run of job as the store keeps it.
func StoredRun(job, replica string, r Run) store.JobRun {
	return store.JobRun{
		ID: r.ID, Job: job, Trigger: r.Trigger, Replica: replica,
		Start: r.Start.UTC(), End: utcOrZero(r.End), Deadline: utcOrZero(r.Deadline), Status: r.Status,
		Count: r.Count, Documents: r.Documents, Events: r.Events, Error: r.Error,
	}
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

// FromStored turns a stored run into the API's, its times in loc; a run left running past its
// deadline reads as abandoned.
func FromStored(r store.JobRun, loc *time.Location, now time.Time) Run {
	out := Run{
		ID: r.ID, Trigger: r.Trigger, Replica: r.Replica, Start: r.Start, End: r.End, Deadline: r.Deadline,
		Status: r.Status, Count: r.Count, Error: r.Error,
		Changes: Changes{Documents: r.Documents, Events: r.Events},
	}
	if r.Abandoned(now) {
		out.Status = StatusAbandoned
	}
	return out.In(loc)
}
