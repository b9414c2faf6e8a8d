package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"
)

// maxGroup bounds how many write transactions commit as one.
const maxGroup = 64

// writeQueue holds the write transactions waiting for the writer connection. SQLite has one
// writer at a time, and a writer that finds the lock taken sleeps in its busy handler for whole
// milliseconds, so this process queues its own writes here instead.
type writeQueue struct {
	mu      sync.Mutex
	waiting []*write
	busy    bool // a leader is committing
}

// write is one caller's transaction: its body, and how it learns the outcome or that it leads.
type write struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan error    // the outcome, once committed or refused
	lead chan struct{} // this caller commits the next group
}

// inTx runs fn in a write transaction and returns once it committed (nil) or did not (the
// error). Writes that queue up while another commits are committed together, as one SQLite
// transaction with a savepoint each (group commit): a commit writes the pages it changed to the
// WAL, and the builds, the WebSub queue, the relay and the run log of a busy tick change the
// same few pages thousands of times a second. In the 1,000-topic hub benchmark the writer was
// held 1.1 s of the 1.4 s the builds took, in 4,600 transactions. A body that fails is rolled
// back to its savepoint and alone gets its error; the others commit. A body runs after those
// queued before it and sees their writes, as it would had they committed first.
//
// The caller queued first when nobody commits leads: it commits a group (itself first), then
// hands the lead to the next caller waiting, if any. No goroutine runs in the background.
func (s *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	w := &write{ctx: ctx, fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	q := &s.queue
	q.mu.Lock()
	q.waiting = append(q.waiting, w)
	if !q.busy {
		q.busy = true
		w.lead <- struct{}{}
	}
	q.mu.Unlock()
	select {
	case err := <-w.done:
		return err
	case <-w.lead:
	}
	q.mu.Lock()
	n := min(len(q.waiting), maxGroup)
	group := slices.Clone(q.waiting[:n])
	// The queue's array must not keep the group's bodies, and the records they hold, alive.
	clear(q.waiting[:n])
	q.waiting = q.waiting[n:]
	if len(q.waiting) == 0 {
		q.waiting = nil
	}
	q.mu.Unlock()

	s.commitGroup(group)
	q.handOff()
	return <-w.done
}

// handOff gives the lead to the first caller waiting, or leaves it free.
func (q *writeQueue) handOff() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiting) > 0 {
		q.waiting[0].lead <- struct{}{}
	} else {
		q.busy = false
	}
}

// run runs w's body in tx, unless its caller gave up while it was queued. A body that panics
// fails with an error instead: it runs on the leader's goroutine, and the writes queued behind
// it must not wait for good.
func (w *write) run(tx *sql.Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("sqlite: write transaction panicked: %v", r)
		}
	}()
	if err := w.ctx.Err(); err != nil {
		return err
	}
	return w.fn(tx)
}

// Savepoint statements, prepared on the writer connection (writeStatements).
const (
	sqlSavepoint  = `SAVEPOINT write`
	sqlRelease    = `RELEASE write`
	sqlRollbackTo = `ROLLBACK TO write`
)

// commitGroup runs the bodies of group in one transaction and tells each its outcome.
func (s *DB) commitGroup(group []*write) {
	// The transaction lives as long as the most patient caller: one giving up must not roll
	// back the others' writes. Each body's statements run on their caller's context.
	ctx, cancel := patience(group)
	defer cancel()
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		for _, w := range group {
			w.done <- fmt.Errorf("sqlite: begin: %w", err)
		}
		return
	}
	if len(group) == 1 {
		w := group[0]
		if err := w.run(tx); err != nil {
			tx.Rollback()
			w.done <- err
			return
		}
		if err := tx.Commit(); err != nil {
			err = fmt.Errorf("sqlite: commit: %w", err)
		}
		w.done <- err
		return
	}
	var ok []*write
	for i, w := range group {
		if _, err := s.exec(ctx, tx, sqlSavepoint); err != nil {
			s.abandon(tx, append(ok, group[i:]...), fmt.Errorf("sqlite: savepoint: %w", err))
			return
		}
		if err := w.run(tx); err != nil {
			// An interrupted write statement can roll the whole transaction back; then rolling
			// back to the savepoint fails, and nobody's writes are left to commit.
			if _, rerr := s.exec(ctx, tx, sqlRollbackTo); rerr != nil {
				w.done <- err
				s.abandon(tx, append(ok, group[i+1:]...), fmt.Errorf("sqlite: roll back after %w: %w", err, rerr))
				return
			}
			w.done <- err
		} else {
			ok = append(ok, w)
		}
		if _, err := s.exec(ctx, tx, sqlRelease); err != nil {
			s.abandon(tx, append(ok, group[i+1:]...), fmt.Errorf("sqlite: release savepoint: %w", err))
			return
		}
	}
	err = tx.Commit()
	if err != nil {
		err = fmt.Errorf("sqlite: commit: %w", err)
	}
	for _, w := range ok {
		w.done <- err
	}
}

// patience returns a context that ends when the last of group's contexts has ended, or never
// when one of them has no deadline.
func patience(group []*write) (context.Context, context.CancelFunc) {
	if len(group) == 1 {
		return group[0].ctx, func() {}
	}
	var last time.Time
	for _, w := range group {
		d, ok := w.ctx.Deadline()
		if !ok {
			return context.WithCancel(context.Background())
		}
		if d.After(last) {
			last = d
		}
	}
	return context.WithDeadline(context.Background(), last)
}

// abandon rolls tx back and gives err to every write in ws.
func (s *DB) abandon(tx *sql.Tx, ws []*write, err error) {
	tx.Rollback()
	for _, w := range ws {
		w.done <- err
	}
}
