package schedule

import "time"

// maxMissedSteps bounds the walk over missed ticks; past it the newest miss is taken to be now.
const maxMissedSteps = 10000

// Missed reports whether a job that last started at lastRun missed a scheduled tick before now
// that is still worth running: robfig/cron never runs what fell due while the service was down.
// It looks only at the newest missed tick, so a long outage gives one catch-up run, never one
// per missed tick. deadline is how late a missed tick may still start (like Kubernetes'
// startingDeadlineSeconds); 0 means no limit. A job that never ran has missed nothing.
func Missed(spec Spec, lastRun, now time.Time, deadline time.Duration) bool {
	if lastRun.IsZero() {
		return false
	}
	next := spec.Next(lastRun)
	if next.IsZero() || next.After(now) {
		return false
	}
	newest := next
	for i := 0; i < maxMissedSteps; i++ {
		n := spec.Next(newest)
		if n.IsZero() || n.After(now) {
			break
		}
		newest = n
		if i == maxMissedSteps-1 {
			newest = now
		}
	}
	return deadline <= 0 || now.Sub(newest) <= deadline
}
