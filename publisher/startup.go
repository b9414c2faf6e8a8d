package publisher

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// DefaultStartupTimeout bounds how long StartRetrying retries reaching external servers and
// creating the stream, unless Options.StartupTimeout says otherwise: replicas started together on
// a clustered stream (Replicas > 1) time out on each other's creation requests until one wins.
const DefaultStartupTimeout = 60 * time.Second

// Back-off between StartRetrying's attempts, jittered.
const (
	retryInitial = 200 * time.Millisecond
	retryMax     = 5 * time.Second
)

// StartRetrying is Start for a service starting up. With external servers (opts.URLs) it retries
// with jittered exponential back-off for up to opts.StartupTimeout, logging each failure; the
// embedded server either starts or not. Its error tells an operator which of the two failed,
// without the URLs' credentials.
func StartRetrying(ctx context.Context, opts Options, log *slog.Logger) (*Conn, error) {
	if opts.URLs == "" {
		c, err := Start(ctx, opts, log)
		if err != nil {
			return nil, fmt.Errorf("cannot start the embedded NATS server: %w", err)
		}
		return c, nil
	}
	if log == nil {
		log = slog.Default()
	}
	timeout := opts.StartupTimeout
	if timeout <= 0 {
		timeout = DefaultStartupTimeout
	}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = retryInitial, retryMax
	c, err := backoff.Retry(ctx, func() (*Conn, error) {
		return Start(ctx, opts, log)
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(timeout), backoff.WithNotify(func(err error, wait time.Duration) {
		log.Warn("nats not ready at start-up, retrying", slog.Duration("in", wait), slog.Any("error", err))
	}))
	if err != nil {
		return nil, fmt.Errorf("cannot connect to NATS at %s: %w", redactURLs(opts.URLs), err)
	}
	return c, nil
}
