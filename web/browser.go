package web

import "net/http"

// setPageHeaders sets the headers of every HTML page Syndicate serves: its own pages and the
// HTML view of a feed. The CSP allows the one same-origin script (copy.js) and inline styles.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src * data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
}
