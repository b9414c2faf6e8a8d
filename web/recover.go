package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
)

// recoverPanics answers a request whose handler panicked with 500 and its request id (JSON
// under /api, plain text elsewhere), logs the panic with its stack and the id, and counts it.
// net/http would otherwise close the connection with no answer at all, and log the stack
// without anything to match it to a reader's report. It is the outermost layer, so a panic
// anywhere, the feed path included, is caught.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &panicWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // net/http's way to abort a response on purpose; it logs nothing
			}
			// withRequestID put the id on the answer; feed requests that skipped it get one now.
			id := w.Header().Get(RequestIDHeader)
			if id == "" {
				id = newRequestID()
			}
			s.log.Error("http handler panicked", slog.String("request_id", id), slog.String("method", r.Method),
				slog.String("path", r.URL.Path), slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
			if s.metrics != nil {
				s.metrics.HTTPPanic()
			}
			if pw.wrote {
				// Part of the answer is out: a 500 can no longer be said, and a truncated body
				// must not look complete, so the connection is cut.
				panic(http.ErrAbortHandler)
			}
			h := w.Header()
			for k := range h {
				delete(h, k) // headers the handler set for an answer it never gave
			}
			h.Set(RequestIDHeader, id)
			h.Set("Cache-Control", "no-store")
			if strings.HasPrefix(r.URL.Path, "/api/") {
				writeJSON(w, http.StatusInternalServerError, panicBody{Error: "internal error", RequestID: id})
				return
			}
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "Internal server error. Request id: %s\n", id)
		}()
		next.ServeHTTP(pw, r)
	})
}

type panicBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id"`
}

// panicWriter remembers whether the answer has started.
type panicWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *panicWriter) WriteHeader(code int) {
	if code >= 200 { // 1xx informational answers leave the final one to come
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *panicWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer (flush, deadlines).
func (w *panicWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
