package web

import (
	"net/http"
	"strconv"
	"strings"
)

// Content coding is negotiated per RFC 9110 §12.5.3:
//   - codings are case-insensitive, and x-gzip is gzip (§8.4.1.3); whitespace is allowed
//     around elements, ";" and "="; an element with a malformed q-value is ignored;
//   - q=0 refuses a coding; "*" stands for every coding the header does not name, identity
//     included;
//   - identity is acceptable unless refused, by "identity;q=0" or by "*;q=0" without identity
//     named;
//   - a request without Accept-Encoding gets identity: any coding is acceptable then, and
//     identity is what every client reads;
//   - of two acceptable codings the higher q wins, gzip on a tie; identity that the header does
//     not weigh (neither named nor covered by "*") does not compete, as in common servers, so
//     "gzip;q=0.3" alone still gets gzip;
//   - a header that refuses both gzip and identity gets 406 Not Acceptable (§15.5.7) rather
//     than a coding the client said it cannot read; when gzip is accepted but the document has
//     no gzip form (too small to gain from it), it is sent as identity, the only form there is.

// encodingQ returns the q-values the Accept-Encoding header gives gzip and identity, and
// whether identity was weighed by name or by "*". It does not allocate: it runs on every feed
// request.
func encodingQ(header string) (gzip, identity float64, weighed bool) {
	gzip, identity = -1, -1 // not named
	star := -1.0
	for header != "" {
		var part string
		part, header, _ = strings.Cut(header, ",")
		name, params, _ := strings.Cut(part, ";")
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		q, ok := qValue(params)
		if !ok {
			continue // a malformed q-value: the element means nothing we can rely on
		}
		switch {
		case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
			gzip = max(gzip, q)
		case strings.EqualFold(name, "identity"):
			identity = max(identity, q)
		case name == "*":
			star = max(star, q)
		}
	}
	if gzip < 0 {
		gzip = max(star, 0)
	}
	weighed = identity >= 0 || star >= 0
	if identity < 0 {
		identity = 1
		if star >= 0 {
			identity = star
		}
	}
	return gzip, identity, weighed
}

// qValue reads the weight among an element's parameters (RFC 9110 §12.4.2): "q=0.5", with
// optional whitespace; the parameter name is case-insensitive. Without one the weight is 1.
func qValue(params string) (float64, bool) {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, found := strings.Cut(p, "=")
		if !found || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0, false
		}
		return q, true
	}
	return 1, true
}

// chooseGzip decides how to answer: gzip or identity, or acceptable false for a 406.
func chooseGzip(r *http.Request, haveGzip bool) (useGzip, acceptable bool) {
	header, present := r.Header["Accept-Encoding"]
	if !present {
		return false, true
	}
	gz, id, weighed := encodingQ(strings.Join(header, ","))
	switch {
	case gz > 0 && haveGzip && (gz >= id || !weighed):
		return true, true
	case id > 0:
		return false, true
	case gz > 0:
		return false, true // accepts gzip; the document has only its identity form
	}
	return false, false
}

// notAcceptable answers a request whose Accept-Encoding refuses every coding we have.
func notAcceptable(w http.ResponseWriter) {
	w.Header()["Vary"] = varyNegotiated
	http.Error(w, "Not Acceptable: Accept-Encoding refuses both gzip and identity, the only codings served.", http.StatusNotAcceptable)
}
