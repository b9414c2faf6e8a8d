package build

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// A caller must see every change committed before it asked: it never takes the answer of a read
// that was already under way. The test runs in a synctest bubble so that synctest.Wait, not a
// guessed sleep, tells when all 50 later callers are blocked behind read 1.
func TestChangeReadsNeverAnswerFromAnEarlierRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var current, reads atomic.Int64
		release := make(chan struct{})
		c := &changeReads{read: func(context.Context) (int64, error) {
			v := current.Load() // what the database would answer at this moment
			reads.Add(1)
			<-release
			return v, nil
		}}
		ctx := context.Background()
		first := make(chan int64, 1)
		go func() { v, _ := c.get(ctx); first <- v }()
		synctest.Wait() // read 1 is under way and saw 0
		if n := reads.Load(); n != 1 {
			t.Fatalf("%d reads after the first caller, want 1", n)
		}
		current.Store(1)
		later := make(chan int64, 50)
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() { v, _ := c.get(ctx); later <- v })
		}
		synctest.Wait() // all 50 wait for the read queued behind read 1
		if n := reads.Load(); n != 1 {
			t.Fatalf("%d reads while read 1 is under way, want 1", n)
		}
		close(release)
		if v := <-first; v != 0 {
			t.Errorf("first caller got %d, want 0", v)
		}
		wg.Wait()
		close(later)
		for v := range later {
			if v != 1 {
				t.Fatalf("a caller that asked after the change got %d", v)
			}
		}
		if n := reads.Load(); n != 2 {
			t.Errorf("%d reads for 51 callers in two waves, want 2", n)
		}
	})
}

func TestChangeReadsErrorsAndCancel(t *testing.T) {
	boom := errors.New("database gone")
	block := make(chan struct{})
	c := &changeReads{read: func(context.Context) (int64, error) { <-block; return 0, boom }}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.get(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	close(block)
	if _, err := c.get(context.Background()); !errors.Is(err, boom) {
		t.Errorf("failed read: %v, want %v", err, boom)
	}
}
