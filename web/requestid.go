package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"
)

type requestIDKey struct{}

// RequestIDHeader carries a request's id in both directions: a proxy's id is kept, else one is
// made, and the answer echoes it so a reader's report can be matched to the logs.
const RequestIDHeader = "X-Request-Id"

// withRequestID gives every request an id and logs it at debug level when the request ends;
// error logs of the request carry it too. Feed requests skip the random id: the hot path stays
// free of it unless a proxy sent one.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if id == "" || len(id) > 128 {
			if isFeedPath(r.URL.Path) || r.URL.Path == "/" { // the directory too: served from memory (pagecache.go)
				next.ServeHTTP(w, r)
				return
			}
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		start := time.Now()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.Debug("http request", slog.String("request_id", id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.Duration("took", time.Since(start)))
		}
	})
}

func isFeedPath(p string) bool { return len(p) > 7 && p[:7] == "/feeds/" }

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand never fails on Linux
	return hex.EncodeToString(b)
}

// requestID returns the request's id, "" if none.
func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}
