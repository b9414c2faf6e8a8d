package web

import (
	"net/http"
	"strings"
)

// Content negotiation between a feed and its HTML view (htmlview.go). Chrome is removing XSLT
// ("This site uses XSLT; that functionality is being removed"), so a person who opens a feed URL
// gets an HTML page from the server instead of a stylesheet applied by the browser. Feed
// readers must see no change at all: same bytes, same validators.

// htmlTypes and feedTypes are the media types weighed against each other in an Accept header.
// */* counts for neither: every feed reader and every browser sends it.
var (
	htmlTypes = map[string]bool{"text/html": true, "application/xhtml+xml": true}
	feedTypes = map[string]bool{
		"application/rss+xml": true, "application/atom+xml": true, "application/feed+json": true,
		"application/xml": true, "text/xml": true, "application/json": true, "application/rdf+xml": true,
	}
)

// wantsHTML reports whether a request for a feed comes from a person navigating a browser to it.
//
// Only a browser navigation says so, in Fetch Metadata (Sec-Fetch-Dest: document or
// Sec-Fetch-Mode: navigate, sent by every current browser), with an Accept that puts text/html at
// least as high as XML (Chrome: "text/html,…,application/xml;q=0.9,…"). Accept alone decides
// nothing: some feed readers copy a browser's Accept header to get past bot filters, and they
// must keep getting the feed. A browser too old to send Fetch Metadata gets the feed, which still
// names its XSL stylesheet.
func wantsHTML(h http.Header) bool {
	if !navigation(h) {
		return false
	}
	html, feed := acceptWeights(headerValue(h, "Accept"))
	return html > 0 && html >= feed
}

func navigation(h http.Header) bool {
	return headerValue(h, "Sec-Fetch-Dest") == "document" || headerValue(h, "Sec-Fetch-Mode") == "navigate"
}

// acceptWeights returns the highest q-value an Accept header gives an HTML type and a feed type
// (RFC 9110 §12.5.1; a missing q is 1, "Q=0.5" and "q = 0.5" are 0.5, a malformed one counts
// as 0).
func acceptWeights(accept string) (html, feed float64) {
	for accept != "" {
		var part string
		part, accept, _ = strings.Cut(accept, ",")
		mediaType, params, _ := strings.Cut(part, ";")
		mediaType = strings.ToLower(strings.TrimSpace(mediaType))
		isHTML, isFeed := htmlTypes[mediaType], feedTypes[mediaType]
		if !isHTML && !isFeed {
			continue
		}
		q, ok := qValue(params) // shared with Accept-Encoding (encoding.go)
		if !ok {
			continue
		}
		if isHTML {
			html = max(html, q)
		} else {
			feed = max(feed, q)
		}
	}
	return html, feed
}
