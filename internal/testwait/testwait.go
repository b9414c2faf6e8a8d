// Package testwait holds For, the one way tests wait for a condition: they poll the state they
// care about until it holds or a deadline passes, instead of sleeping for a guessed duration.
package testwait

import (
	"testing"
	"time"
)

// Timeout bounds every wait. It is generous because a loaded CI machine (two cores shared by
// several test binaries under -race) can be many times slower than a laptop; a passing test
// returns as soon as its condition holds, so the bound only costs time when the test fails.
const Timeout = 30 * time.Second

// interval is short enough not to slow tests and long enough not to spin a core.
const interval = 10 * time.Millisecond

// For polls cond until it returns true, failing the test with "timed out waiting for <what>" after
// Timeout. cond runs on the test goroutine, so it may call t.Fatal itself.
func For(t testing.TB, what string, cond func() bool) {
	t.Helper()
	Within(t, Timeout, what, cond)
}

// Within is For with another bound, for a benchmark whose set-up is larger than any test's.
func Within(t testing.TB, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", bound, what)
		}
		time.Sleep(interval)
	}
}
