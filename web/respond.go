package web

import (
	"encoding/json"
	"log/slog"
	"net/http"

	syndicate "github.com/yongzhou-news/syndicate"
)

// statusOf maps error codes to HTTP statuses, in one place.
var statusOf = map[string]int{
	syndicate.EINVALID:     http.StatusBadRequest,
	syndicate.ENOTFOUND:    http.StatusNotFound,
	syndicate.ECONFLICT:    http.StatusConflict,
	syndicate.EINTERNAL:    http.StatusInternalServerError,
	syndicate.ETOOLARGE:    http.StatusRequestEntityTooLarge,
	syndicate.EUNSUPPORTED: http.StatusUnsupportedMediaType,
}

type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

// fail answers with err's status and client-safe message; internal errors are logged, never shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := syndicate.ErrorCode(err)
	if code == syndicate.EINTERNAL {
		s.log.Error("request failed", slog.String("request_id", requestID(r)), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	body := errorBody{Error: syndicate.ErrorMessage(err)}
	if e, ok := err.(*syndicate.Error); ok {
		body.Field = e.Field
	}
	writeJSON(w, statusOf[code], body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the status is out; a failed write means the client went away
}
