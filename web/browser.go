package web

import (
	"bytes"
	"strings"
)

// Chrome shows a document served as application/rss+xml or application/atom+xml as bare source
// and ignores its <?xml-stylesheet?>; served as application/xml it applies the XSL view. A
// browser that navigates to a feed asks for text/html first, a feed reader for feed types or
// anything: only the former gets the same bytes labelled application/xml.
var (
	browserXML  = []string{"application/xml; charset=utf-8"}
	varyBrowser = []string{"Accept-Encoding, Accept"}
)

// hasStylesheet reports whether an XML document opens with an <?xml-stylesheet?> instruction.
func hasStylesheet(body []byte) bool {
	return bytes.Contains(body[:min(len(body), 4096)], []byte("<?xml-stylesheet"))
}

// browserContentType returns the Content-Type header for a browser's request.
func (e *cached) browserContentType() []string {
	if e.xslView {
		return browserXML
	}
	return e.contentType
}

func prefersHTML(accept string) bool {
	return strings.Contains(accept, "text/html") && !strings.Contains(accept, "rss+xml") && !strings.Contains(accept, "atom+xml")
}
