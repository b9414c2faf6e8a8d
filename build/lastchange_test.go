package build

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A caller must see every change committed before it asked: it never takes the answer of a read
// that was already under way.
func TestChangeReadsNeverAnswerFromAnEarlierRead(t *testing.T) {
	var current, reads atomic.Int64
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	c := &changeReads{read: func(context.Context) (int64, error) {
		v := current.Load() // what the database would answer at this moment
		reads.Add(1)
		started <- struct{}{}
		<-release
		return v, nil
	}}
	ctx := context.Background()
	first := make(chan int64)
	go func() { v, _ := c.get(ctx); first <- v }()
	<-started // read 1 is under way and saw 0
	current.Store(1)
	later := make(chan int64, 50)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { v, _ := c.get(ctx); later <- v })
	}
	time.Sleep(50 * time.Millisecond) // let them all queue behind read 1
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
