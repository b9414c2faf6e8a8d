package websub

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// After a save the store refused, SaveLoop waits storeRetryMin before the next, doubling up to
// storeRetryMax while the store keeps failing.
const (
	storeRetryMin = 250 * time.Millisecond
	storeRetryMax = 30 * time.Second
)

// SaveLoop saves, until ctx ends, what a Publish took in memory: on each signal of dirty it waits
// gather (letting more changes join the batch), then calls save until it succeeds. save keeps a
// batch the store refused for its next call, so a database that goes away for a while loses
// nothing; changes published meanwhile join the batch and do not cut the pause short. The
// notifier's writer and the built-in hub's fan-out both run it.
func SaveLoop(ctx context.Context, dirty <-chan struct{}, gather time.Duration, save func() error) {
	// Doubling without jitter: one loop per process, a few saves per tick.
	b := &backoff.ExponentialBackOff{InitialInterval: storeRetryMin, MaxInterval: storeRetryMax, Multiplier: 2}
	for {
		select {
		case <-ctx.Done():
			return
		case <-dirty:
		}
		if gather > 0 && !sleep(ctx, gather) {
			return
		}
		for save() != nil {
			if !sleep(ctx, b.NextBackOff()) {
				return
			}
		}
		b.Reset()
	}
}

// sleep waits d and reports false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
