package web

import (
	"net/http"
	"time"
)

// overloadWait is how long a request may queue for a slot before it is turned away.
const overloadWait = 100 * time.Millisecond

var retryAfter = []string{"1"}

// limit caps requests in flight. Past the cap a request waits briefly, then gets 503 with
// Retry-After: a reader retries later instead of hanging on a server that cannot keep up.
func limit(max int, next http.Handler) http.Handler {
	slots := make(chan struct{}, max)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case slots <- struct{}{}:
		default:
			t := time.NewTimer(overloadWait)
			select {
			case slots <- struct{}{}:
				t.Stop()
			case <-t.C:
				w.Header()["Retry-After"] = retryAfter
				http.Error(w, "Server busy, retry shortly.", http.StatusServiceUnavailable)
				return
			}
		}
		defer func() { <-slots }()
		next.ServeHTTP(w, r)
	})
}
