package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// Writes queued while another commits are committed as one group: each body that fails is rolled
// back alone and gets its own error, one whose caller gave up does not run, and the others commit.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	insert := func(tx *sql.Tx, k string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO kv (k) VALUES (?)`, k)
		return err
	}

	// The first write holds the writer until the others are queued behind it.
	release := make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.inTx(ctx, func(tx *sql.Tx) error {
			<-release
			return insert(tx, "first")
		})
	}()
	testwait.For(t, "the first write to lead", func() bool {
		s.queue.mu.Lock()
		defer s.queue.mu.Unlock()
		return s.queue.busy && len(s.queue.waiting) == 0
	})

	const n = 12
	boom := errors.New("refused")
	gone, giveUp := context.WithCancel(ctx)
	ran := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		k := fmt.Sprintf("k%02d", i)
		wctx := ctx
		if i == 7 {
			wctx = gone
		}
		wg.Go(func() {
			errs[i] = s.inTx(wctx, func(tx *sql.Tx) error {
				ran[i] = true
				if err := insert(tx, k); err != nil {
					return err
				}
				switch i % 4 {
				case 1: // writes, then fails: its row must not stay
					return boom
				case 2: // a statement the engine refuses, after a write
					return insert(tx, k)
				}
				return nil
			})
		})
	}
	testwait.For(t, "every write queued", func() bool {
		s.queue.mu.Lock()
		defer s.queue.mu.Unlock()
		return len(s.queue.waiting) == n
	})
	giveUp()
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}

	want := map[string]bool{"first": true}
	for i := range n {
		k := fmt.Sprintf("k%02d", i)
		switch {
		case i == 7:
			if !errors.Is(errs[i], context.Canceled) || ran[i] {
				t.Errorf("write %d gave up: error %v, ran %v; want context.Canceled, not run", i, errs[i], ran[i])
			}
		case i%4 == 1:
			if !errors.Is(errs[i], boom) {
				t.Errorf("write %d: error %v; want its own", i, errs[i])
			}
		case i%4 == 2:
			if errs[i] == nil {
				t.Errorf("write %d: inserted %s twice without an error", i, k)
			}
		default:
			if errs[i] != nil {
				t.Errorf("write %d: %v", i, errs[i])
			}
			want[k] = true
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT k FROM kv`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got[k] = true
	}
	rows.Close()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("committed rows %v; want %v", got, want)
	}
}

// A group is as patient as its most patient caller: it has no deadline when one caller has none.
func TestPatience(t *testing.T) {
	bg := context.Background()
	soon, cancel1 := context.WithTimeout(bg, time.Minute)
	defer cancel1()
	later, cancel2 := context.WithTimeout(bg, time.Hour)
	defer cancel2()
	d2, _ := later.Deadline()
	tests := []struct {
		name    string
		ctxs    []context.Context
		want    time.Time
		forever bool
	}{
		{"the latest deadline", []context.Context{soon, later}, d2, false},
		{"one caller without a deadline", []context.Context{soon, bg}, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var group []*write
			for _, c := range tt.ctxs {
				group = append(group, &write{ctx: c})
			}
			ctx, cancel := patience(group)
			defer cancel()
			d, ok := ctx.Deadline()
			if ok == tt.forever || (ok && !d.Equal(tt.want)) {
				t.Errorf("deadline %v (%v); want %v (forever %v)", d, ok, tt.want, tt.forever)
			}
		})
	}
}

// A body that panics fails with an error, and the writes after it still commit.
func TestWritePanicDoesNotStopTheQueue(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY)`); err != nil {
			return err
		}
		panic("boom")
	})
	if err == nil {
		t.Fatal("a body that panicked: no error")
	}
	if err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY)`)
		return err
	}); err != nil {
		t.Fatalf("the write after a panic: %v (the panicking body's table must have been rolled back)", err)
	}
}

// openTemp opens a store on a new SQLite file, closed when the test ends.
func openTemp(t *testing.T) *DB {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
