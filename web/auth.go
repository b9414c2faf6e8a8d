package web

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// requireAdmin wraps h so that it runs only with a valid bearer token. Every token is compared in
// constant time, so the response time does not tell how much of a guess was right.
func (s *Server) requireAdmin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r.Header.Get("Authorization")) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="syndicate admin"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "A valid admin token is required: Authorization: Bearer <token>."})
			return
		}
		h(w, r)
	}
}

func (s *Server) authorized(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	match := 0
	for _, t := range s.tokens {
		match |= subtle.ConstantTimeCompare([]byte(token), t)
	}
	return match == 1
}
