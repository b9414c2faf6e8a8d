package web

import (
	"net/http"
	"strings"
)

// apiPrefix is the pattern of apiFallback: every /api path no other route takes.
const apiPrefix = "/api/"

// apiFallback answers what no /api route takes with the admin API's JSON errors instead of
// net/http's plain text, since its clients parse every error body as JSON: 405 with Allow when
// other methods have a route at the path, else 404.
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != apiPrefix {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "No such admin API route; README.md lists them under HTTP API."})
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: r.Method + " is not allowed here; allowed: " + strings.Join(allow, ", ") + "."})
}
