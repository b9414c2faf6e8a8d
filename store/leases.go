package store

import (
	"context"
	"errors"
	"time"
)

// ErrLeaseLost is returned by a fenced CommitBuild whose run no longer holds its job's lease, and
// by RenewLease when the lease expired or another holder took it.
var ErrLeaseLost = errors.New("lease lost")

// Leaser is implemented by stores that several replicas share (PostgreSQL): job leases and tick
// claims live next to the data the jobs write, so coordination needs nothing but the store, and
// expiry is judged by the database's clock, never a replica's. SQLite does not implement it: it
// is single-replica by design, and the scheduler's own no-overlap rule is its lease.
type Leaser interface {
	// AcquireLease claims the job's tick (skipped when tick is zero: a manual run) and its lease
	// for ttl. ok is false when the tick was claimed already or a live lease is held. Each
	// acquisition gets a token greater than every earlier token of the job: the fence.
	AcquireLease(ctx context.Context, job, holder string, tick time.Time, ttl time.Duration) (token int64, ok bool, err error)
	// RenewLease extends the lease to ttl from now; ErrLeaseLost when it expired or was taken.
	RenewLease(ctx context.Context, job string, token int64, ttl time.Duration) error
	// ReleaseLease ends the lease now if token still holds it.
	ReleaseLease(ctx context.Context, job string, token int64) error
}

// Fence is a job's lease token, carried by a run's context to the store.
type Fence struct {
	Job   string
	Token int64
}

type fenceKey struct{}

// WithFence returns a context whose writes commit only while token still holds job's lease: a
// store that implements Leaser checks it inside the build's transaction, so a run that lost its
// lease (a partition, a pause longer than the TTL) never commits over its successor's work.
func WithFence(ctx context.Context, job string, token int64) context.Context {
	return context.WithValue(ctx, fenceKey{}, Fence{Job: job, Token: token})
}

// FenceFrom returns the fence WithFence put in ctx.
func FenceFrom(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}
