package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// After a panic Supervise waits restartMin before running the relay again, doubling up to
// restartMax while it keeps panicking.
const (
	restartMin = time.Second
	restartMax = time.Minute
)

// Supervise runs the relay until ctx ends, like Run, and starts it again after a panic: one bad
// pass (a bad row, a bug) must not stop every later event from reaching NATS until someone
// restarts the service. Each panic is logged with its stack and reported to panicked (nil: not
// reported), and the restart waits a moment, longer while the panics go on. An error other than
// a panic ends it.
func (r *Relay) Supervise(ctx context.Context, panicked func()) {
	// Doubling without jitter: one process restarts its own relay, there is no herd to spread.
	b := &backoff.ExponentialBackOff{InitialInterval: restartMin, MaxInterval: restartMax, Multiplier: 2}
	for {
		err := r.runRecovering(ctx)
		if ctx.Err() != nil {
			return
		}
		var p panicError
		if !errors.As(err, &p) {
			if err != nil {
				r.log.Error("relay stopped", slog.Any("error", err))
			}
			return
		}
		wait := b.NextBackOff()
		r.log.Error("relay panicked; restarting it", slog.String("panic", p.value), slog.String("stack", p.stack),
			slog.Duration("restart_in", wait))
		if panicked != nil {
			panicked()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// panicError is a panic that escaped Run, as runRecovering returns it.
type panicError struct{ value, stack string }

func (p panicError) Error() string { return "relay panicked: " + p.value }

func (r *Relay) runRecovering(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError{value: fmt.Sprint(v), stack: string(debug.Stack())}
		}
	}()
	return r.Run(ctx)
}
