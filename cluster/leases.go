// Package cluster makes a job tick run on exactly one replica when several share a NATS
// JetStream cluster, using JetStream KeyValue buckets (no lock service of our own):
//
//   - a tick claim: create-if-absent of "<job>.<tick>" in a bucket whose entries live for
//     TickTTL, so the replicas whose cron fires a little later find the tick taken;
//   - a running lease: create-if-absent of "<job>" in a bucket whose entries expire after
//     LeaseTTL unless renewed (revision-checked) every LeaseTTL/3 while the run lasts.
//
// A replica that dies mid-run stops renewing; its lease expires within LeaseTTL and the next tick
// runs elsewhere. A tick whose claim or lease cannot be had (taken, or NATS unreachable) is
// skipped on this replica, never run twice.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Options configure the leases.
type Options struct {
	Prefix   string        // bucket name prefix, e.g. SYNDICATE
	Replica  string        // this replica's id, stored as the lease holder
	LeaseTTL time.Duration // default 30s
	TickTTL  time.Duration // default 1h: longer than any clock skew between replicas
	Replicas int           // copies of each bucket in the NATS cluster (nats.replicas); default 1
}

// Leases coordinates job runs across replicas.
type Leases struct {
	ticks, running jetstream.KeyValue
	opts           Options
	log            *slog.Logger
}

// New creates (or binds to) the two buckets. Both use only what nats-server 2.9 supports.
func New(ctx context.Context, js jetstream.JetStream, o Options, log *slog.Logger) (*Leases, error) {
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.TickTTL <= 0 {
		o.TickTTL = time.Hour
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	ticks, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: o.Prefix + "_TICKS", Description: "Syndicate job tick claims", History: 1, TTL: o.TickTTL, Replicas: o.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: tick bucket: %w", err)
	}
	running, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: o.Prefix + "_LEASES", Description: "Syndicate running-job leases", History: 1, TTL: o.LeaseTTL, Replicas: o.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: lease bucket: %w", err)
	}
	return &Leases{ticks: ticks, running: running, opts: o, log: log}, nil
}

// key turns a job name (build:lingling) into a valid KV key (build.lingling).
func key(job string) string { return strings.NewReplacer(":", ".", " ", "_").Replace(job) }

// Acquire claims the job's tick (skipped when tick is zero, for manual runs) and its running
// lease. ok is false when another replica has either. release must be called when the run ends.
func (l *Leases) Acquire(ctx context.Context, job string, tick time.Time) (release func(), ok bool, err error) {
	k := key(job)
	if !tick.IsZero() {
		_, err := l.ticks.Create(ctx, k+"."+strconv.FormatInt(tick.Unix(), 10), []byte(l.opts.Replica))
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("cluster: claim %s tick %s: %w", job, tick.Format(time.RFC3339), err)
		}
	}
	rev, err := l.running.Create(ctx, k, []byte(l.opts.Replica))
	if errors.Is(err, jetstream.ErrKeyExists) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("cluster: lease %s: %w", job, err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.renew(job, k, rev, stop)
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			wg.Wait()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			// If the lease was lost, the revision check keeps us from deleting someone else's.
			if err := l.running.Delete(ctx, k, jetstream.LastRevision(l.lastRev(k, rev))); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
				l.log.Warn("cluster: release lease", slog.String("job", job), slog.Any("error", err))
			}
		})
	}, true, nil
}

// lastRev returns the newest revision this replica holds for k.
func (l *Leases) lastRev(k string, fallback uint64) uint64 {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	e, err := l.running.Get(ctx, k)
	if err != nil || string(e.Value()) != l.opts.Replica {
		return fallback
	}
	return e.Revision()
}

func (l *Leases) renew(job, k string, rev uint64, stop <-chan struct{}) {
	t := time.NewTicker(l.opts.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.opts.LeaseTTL/3)
			next, err := l.running.Update(ctx, k, []byte(l.opts.Replica), rev)
			cancel()
			if err != nil {
				l.log.Error("cluster: lease lost while running", slog.String("job", job), slog.Any("error", err))
				return
			}
			rev = next
		}
	}
}

// Holder returns the replica holding the job's running lease, "" if none.
func (l *Leases) Holder(ctx context.Context, job string) (string, error) {
	e, err := l.running.Get(ctx, key(job))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("cluster: lease holder of %s: %w", job, err)
	}
	return string(e.Value()), nil
}
