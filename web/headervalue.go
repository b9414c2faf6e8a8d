package web

import "net/http"

// headerValue returns the first value of a request header given by its canonical name, as
// net/http stores every incoming header (HTTP/1 and HTTP/2 alike). It is r.Header.Get without
// the canonicalisation and validation of the name on each call, which the feed path, reading
// five or six headers for an answer that is mostly a 304 or stored bytes, would pay on every
// request.
func headerValue(h http.Header, canonicalName string) string {
	if v := h[canonicalName]; len(v) > 0 {
		return v[0]
	}
	return ""
}
