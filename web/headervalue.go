package web

import "net/http"

// headerValue returns the first value of a request header given by its canonical name, as
// net/http stores every incoming header (HTTP/1 and HTTP/2 alike). It is r.Header.Get without
// the canonicalisation and validation of the name on each call: the feed path reads five or six
// headers per request, and those calls were about a tenth of its handler time.
func headerValue(h http.Header, canonicalName string) string {
	if v := h[canonicalName]; len(v) > 0 {
		return v[0]
	}
	return ""
}
