package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// Relay restarts after a panic wait this long at first, doubling up to relayRestartMax.
const (
	relayRestartMin = time.Second
	relayRestartMax = time.Minute
)

// runRelay runs the relay until ctx ends. A panic in it (a bad row, a bug) is logged with its
// stack and counted, and the relay starts again after a pause: one bad pass must not stop every
// later event from reaching NATS until someone restarts the service.
func (a *App) runRelay(ctx context.Context) {
	wait := relayRestartMin
	for {
		err := a.relayOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		var p relayPanic
		if !errors.As(err, &p) {
			if err != nil {
				a.Log.Error("relay stopped", slog.Any("error", err))
			}
			return
		}
		a.Log.Error("relay panicked; restarting it", slog.String("panic", p.value), slog.String("stack", p.stack),
			slog.Duration("restart_in", wait))
		a.Metrics.Panicked("relay")
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, relayRestartMax)
	}
}

type relayPanic struct{ value, stack string }

func (p relayPanic) Error() string { return "relay panicked: " + p.value }

func (a *App) relayOnce(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = relayPanic{value: fmt.Sprint(v), stack: string(debug.Stack())}
		}
	}()
	return a.Relay.Run(ctx)
}
