package web

import "net/http"

// Header values of a feed preflight answer; never modified.
var (
	preflightAllow   = []string{"GET, HEAD, OPTIONS"}
	preflightMethods = []string{"GET, HEAD"}
	preflightHeaders = []string{"If-None-Match, If-Modified-Since, Cache-Control"}
	preflightMaxAge  = []string{"86400"}
)

// feedPreflight answers OPTIONS on feed and archive URLs (RFC 9110 §9.3.7), CORS preflights
// included: feeds are public (Access-Control-Allow-Origin: *), and a web page that revalidates
// one with If-None-Match or If-Modified-Since, which are not CORS-safelisted, makes its browser
// ask first; a 405 there would fail the page's fetch.
func feedPreflight(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h["Allow"] = preflightAllow
	h["Access-Control-Allow-Origin"] = corsAnyone
	h["Access-Control-Allow-Methods"] = preflightMethods
	h["Access-Control-Allow-Headers"] = preflightHeaders
	h["Access-Control-Max-Age"] = preflightMaxAge
	w.WriteHeader(http.StatusNoContent)
}
