package websub

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/yongzhou-news/syndicate/store"
)

// storeTimeout bounds each store write around an attempt; they run on a context of their own
// so that a Close in progress still records what happened to attempts it waited for.
const storeTimeout = 10 * time.Second

// work claims due rows of one hub and sends each in a goroutine of its own, while holding a
// slot of the hub (PerHub) and one of the process (InFlight) per row, until ctx ends.
func (n *Notifier) work(ctx context.Context, hub string) {
	hubSlots := make(chan struct{}, n.opt.PerHub)
	wake := n.wake[hub]
	trouble := storeTrouble{log: n.opt.Log, hub: hub}
	for {
		// Look before claiming: a claim is a write transaction (on SQLite the process's one
		// write lock, which builds wait for), and an idle worker would take one every Poll.
		if !n.due(hub, &trouble) {
			if !n.wait(ctx, wake) {
				return
			}
			continue
		}
		// Block for one pair of slots, then take as many more as are free right now.
		if !acquire(ctx, hubSlots) {
			return
		}
		if !acquire(ctx, n.slots) {
			<-hubSlots
			return
		}
		held := 1
		for held < n.opt.PerHub && tryAcquire(hubSlots) {
			if !tryAcquire(n.slots) {
				<-hubSlots
				break
			}
			held++
		}
		// Not on ctx: a claim cut short by Close may still commit, and its rows would then
		// wait out their lease unsent. Rows claimed are sent, and Close waits for them.
		claimCtx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		ds, err := n.q.ClaimDue(claimCtx, n.kind, hub, n.opt.Now(), held, n.opt.ClaimTTL)
		cancel()
		trouble.note("claim notifications", err)
		for range held - len(ds) {
			<-hubSlots
			<-n.slots
		}
		for _, d := range ds {
			n.sends.Add(1)
			go func() {
				defer n.sends.Done()
				defer func() { <-hubSlots; <-n.slots }()
				n.attempt(d)
			}()
		}
		if len(ds) == held {
			continue // maybe more are due: claim again as soon as slots free up
		}
		if !n.wait(ctx, wake) {
			return
		}
	}
}

// due reports whether hub has rows to claim; when the store cannot tell, the claim finds out.
func (n *Notifier) due(hub string, trouble *storeTrouble) bool {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	due, err := n.q.HasDue(ctx, n.kind, hub, n.opt.Now())
	trouble.note("look for due notifications", err)
	return due || err != nil
}

// storeTrouble logs a worker's store failures once per outage, then its recovery: a worker
// looks every Poll, and a database down for a minute would otherwise write a line per worker
// (eight lanes of the built-in hub, one per external hub) every second.
type storeTrouble struct {
	log      *slog.Logger
	hub      string
	since    time.Time // first failure of the current outage; zero while the store answers
	failures int
}

// note records the outcome of a store call; a nil err after failures ends the outage.
func (t *storeTrouble) note(what string, err error) {
	switch {
	case err == nil && t.since.IsZero():
	case err == nil:
		t.log.Info("websub: the store answers again", slog.String("hub", t.hub), slog.Duration("after", time.Since(t.since)), slog.Int("failed_calls", t.failures))
		t.since, t.failures = time.Time{}, 0
	case t.since.IsZero():
		t.since, t.failures = time.Now(), 1
		t.log.Error("websub: "+what+"; tried again every poll, logged again when the store answers", slog.String("hub", t.hub), slog.Any("error", err))
	default:
		t.failures++
		t.log.Debug("websub: "+what, slog.String("hub", t.hub), slog.Any("error", err))
	}
}

// wait waits until new rows are enqueued (wake) or Poll passes, for retries coming due and rows
// other replicas enqueued; it reports false once ctx ends.
func (n *Notifier) wait(ctx context.Context, wake <-chan struct{}) bool {
	t := time.NewTimer(n.opt.Poll)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-t.C:
	}
	return true
}

func acquire(ctx context.Context, slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func tryAcquire(slots chan struct{}) bool {
	select {
	case slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// attempt sends one claimed notification and records the outcome in the queue.
func (n *Notifier) attempt(d store.Delivery) {
	start := time.Now()
	err := n.sendRecovered(d)
	took := time.Since(start)
	now := n.opt.Now()
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	log := n.opt.Log.With(slog.String("hub", d.Target), slog.String("topic", d.Topic))
	if p, ok := err.(*Postponed); ok {
		// Not an attempt: neither its duration nor an attempt is counted.
		n.m.outcomes.WithLabelValues(d.Target, outcomePostponed).Inc()
		if err := n.q.Postpone(ctx, d, now.Add(p.After)); err != nil {
			log.Error("websub: postpone notification", slog.Any("error", err))
			return
		}
		// Looked at again when it comes due, not at the worker's next Poll: a delivery put off
		// for a tenth of a second would otherwise wait up to a second.
		time.AfterFunc(p.After, func() { n.wakeWorker(d.Target) })
		return
	}
	n.m.latency.WithLabelValues(d.Target).Observe(took.Seconds())
	if err == nil {
		n.m.outcomes.WithLabelValues(d.Target, outcomeDelivered).Inc()
		n.finish(ctx, log, d, now)
		return
	}
	attempts := d.Attempts + 1
	reason := ""
	switch {
	case attempts >= n.opt.MaxAttempts:
		reason = reasonAttempts
	case now.Sub(d.CreatedAt) >= n.opt.MaxAge:
		reason = reasonAge
	}
	if reason != "" {
		n.m.outcomes.WithLabelValues(d.Target, outcomeDropped).Inc()
		n.m.dropped.WithLabelValues(reason).Inc()
		log.Warn("websub: hub notification dropped", slog.Int("attempts", attempts),
			slog.Duration("age", now.Sub(d.CreatedAt)), slog.Any("error", err))
		n.finish(ctx, log, d, now)
		return
	}
	n.m.outcomes.WithLabelValues(d.Target, outcomeRetried).Inc()
	next := now.Add(n.backoff(attempts))
	log.Info("websub: hub notification failed; retrying", slog.Int("attempts", attempts), slog.Time("next", next), slog.Any("error", err))
	if err := n.q.Retry(ctx, d, next, err.Error()); err != nil {
		// The claim runs out and the row is attempted again then.
		log.Error("websub: record failed notification", slog.Any("error", err))
	}
}

// finish removes a row that was sent or given up; one that changed meanwhile is due again.
func (n *Notifier) finish(ctx context.Context, log *slog.Logger, d store.Delivery, now time.Time) {
	requeued, err := n.q.Finish(ctx, d, now)
	if err != nil {
		// The claim runs out and the row is sent again: at least once rather than never.
		log.Error("websub: record sent notification", slog.Any("error", err))
		return
	}
	if requeued {
		n.wakeWorker(d.Target)
	}
}

// wakeWorker wakes target's worker, unless a wake is already waiting for it.
func (n *Notifier) wakeWorker(target string) {
	select {
	case n.wake[target] <- struct{}{}:
	default:
	}
}

// backoff is the wait before attempt attempts+1: d = BackoffBase doubled per failure up to
// BackoffMax, less up to half at random (between d/2 and d), so feeds that failed together
// spread out. The attempts are counted in the store, not in a back-off value, so the schedule is
// replayed from the first attempt: a handful of steps, as MaxAttempts bounds attempts.
//
// The library randomizes around an interval (±RandomizationFactor), not below it: an interval
// of ¾d with a factor of ⅓ spans [d/2, d], and capping the interval at ¾·BackoffMax caps d.
func (n *Notifier) backoff(attempts int) time.Duration {
	b := &backoff.ExponentialBackOff{
		InitialInterval:     n.opt.BackoffBase * 3 / 4,
		RandomizationFactor: 1.0 / 3,
		Multiplier:          2,
		MaxInterval:         n.opt.BackoffMax * 3 / 4,
	}
	d := b.NextBackOff()
	for range attempts - 1 {
		d = b.NextBackOff()
	}
	return min(d, n.opt.BackoffMax) // the library's range is inclusive of one nanosecond more
}

// sendRecovered turns a panic while sending into a failed attempt, retried like any other: a
// worker goroutine that panicked would end the process.
func (n *Notifier) sendRecovered(d store.Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			n.opt.Log.Error("websub: panic while sending", slog.String("hub", d.Target), slog.String("topic", d.Topic),
				slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return n.send(n.sendTo, d)
}
