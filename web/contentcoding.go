package web

import (
	"net/http"
	"strings"
)

// identityBodyOnly answers 415 to a request body in a content coding (RFC 9110 §8.4), since the
// handler reads bodies as sent: without this, "Content-Encoding: br" on plain JSON would be
// stored as if the header were absent, and a gzip body would come back as a JSON syntax error
// at byte 1. The answer's Accept-Encoding says what is read (§12.5.3).
func identityBodyOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, v := range r.Header.Values("Content-Encoding") {
			for c := range strings.SplitSeq(v, ",") {
				if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
					w.Header().Set("Accept-Encoding", "identity")
					writeJSON(w, http.StatusUnsupportedMediaType, errorBody{
						Error: "Content-Encoding: " + quoteHeader(v) + " is not read here; send the body uncompressed",
						Field: "Content-Encoding",
					})
					return
				}
			}
		}
		h(w, r)
	}
}

// quoteHeader quotes a header value for an error message, cut short: it is the client's input.
func quoteHeader(v string) string {
	const max = 100
	if len(v) > max {
		v = v[:max] + "…"
	}
	return `"` + strings.ToValidUTF8(v, "?") + `"`
}
