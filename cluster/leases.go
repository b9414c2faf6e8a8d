// Package cluster makes a job tick run on exactly one replica when several share a PostgreSQL
// store, using the store's lease table (store.Leaser) rather than anything in NATS: builds need the
// store and nothing else, so their coordination lives where their work does, and a NATS outage
// costs no build.
//
//   - a tick claim: a row per (job, tick), so the replicas whose cron fires a little later find the
//     tick taken;
//   - a running lease with a fencing token: held for LeaseTTL, renewed every Renew while the run
//     lasts. The run's context ends when the lease is lost (a renewal refused, or none succeeding
//     before the lease would expire), and the store refuses the build's commit unless the token
//     still holds a live lease, checked inside the commit's own transaction.
//
// Expiry is judged by the database's clock. A replica that dies mid-run stops renewing; its lease
// expires within LeaseTTL and the next tick runs elsewhere. A SQLite store has no Leaser: it is
// single-replica by design, and the scheduler's no-overlap rule is the only lease it needs.
//
// Replicas also keep each other's caches current with best-effort control messages over core
// NATS (Control, control.go).
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// Defaults: a dead replica's jobs run elsewhere within DefaultLeaseTTL, and a renewal has
// DefaultLeaseTTL/3 to succeed twice before the run gives up.
const (
	DefaultLeaseTTL = 6 * time.Second
)

// Options configure the leases.
type Options struct {
	Replica  string        // this replica's id, stored as the lease holder
	LeaseTTL time.Duration // default DefaultLeaseTTL
	Renew    time.Duration // time between renewals; default LeaseTTL/3
}

// Leases coordinates job runs across replicas; it implements schedule.Coordinator.
type Leases struct {
	store store.Leaser
	opts  Options
	log   *slog.Logger
}

// New returns leases kept in s.
func New(s store.Leaser, o Options, log *slog.Logger) *Leases {
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Renew <= 0 || o.Renew >= o.LeaseTTL {
		o.Renew = o.LeaseTTL / 3
	}
	return &Leases{store: s, opts: o, log: log}
}

// Acquire claims the job's tick (skipped when tick is zero, for manual runs) and its running
// lease. ok is false when another replica has either. The returned context carries the fence
// (store.WithFence) and is cancelled with store.ErrLeaseLost as its cause when the lease is lost.
// release must be called when the run ends.
func (l *Leases) Acquire(ctx context.Context, job string, tick time.Time) (run context.Context, release func(), ok bool, err error) {
	// The lease may expire LeaseTTL after the database granted it, which is after this moment:
	// counting from here keeps the local deadline on the safe side.
	sent := time.Now()
	// A database that does not answer must not hold the tick (and every later one) forever: the
	// claim gets the lease's own span, after which this replica skips the tick like a lost claim.
	actx, cancelAcquire := context.WithTimeout(ctx, l.opts.LeaseTTL)
	token, ok, err := l.store.AcquireLease(actx, job, l.opts.Replica, tick, l.opts.LeaseTTL)
	cancelAcquire()
	if err != nil {
		return nil, nil, false, fmt.Errorf("cluster: lease of %s: %w", job, err)
	}
	if !ok {
		return nil, nil, false, nil
	}
	run, cancel := context.WithCancelCause(store.WithFence(ctx, job, token))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.renew(job, token, sent.Add(l.opts.LeaseTTL), cancel, stop)
	}()
	var once sync.Once
	return run, func() {
		once.Do(func() {
			close(stop)
			wg.Wait()
			cancel(context.Canceled)
			ctx, cancelRelease := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancelRelease()
			if err := l.store.ReleaseLease(ctx, job, token); err != nil {
				// It expires by itself within LeaseTTL.
				l.log.Warn("release lease", slog.String("job", job), slog.Any("error", err))
			}
		})
	}, true, nil
}

// renew extends the lease every Renew until stop. It cancels the run when the store refuses a
// renewal, or when a failed one leaves too little time for the next before the lease expires:
// the run then ends before a successor can take the job.
func (l *Leases) renew(job string, token int64, valid time.Time, cancel context.CancelCauseFunc, stop <-chan struct{}) {
	t := time.NewTicker(l.opts.Renew)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		sent := time.Now()
		ctx, done := context.WithTimeout(context.Background(), min(l.opts.Renew, max(time.Until(valid), time.Millisecond)))
		err := l.store.RenewLease(ctx, job, token, l.opts.LeaseTTL)
		done()
		if err == nil {
			valid = sent.Add(l.opts.LeaseTTL)
			continue
		}
		if errors.Is(err, store.ErrLeaseLost) || time.Until(valid) <= l.opts.Renew {
			l.log.Error("lease lost while running: run cancelled", slog.String("job", job), slog.Any("error", err))
			cancel(fmt.Errorf("cluster: job %s: %w", job, store.ErrLeaseLost))
			return
		}
		l.log.Warn("renew lease", slog.String("job", job), slog.Any("error", err))
	}
}
