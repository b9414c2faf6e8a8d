package feed

import (
	"embed"

	syndicate "github.com/yongzhou-news/syndicate"
)

//go:embed xsl/rss.xsl xsl/atom.xsl
var xslFiles embed.FS

// XSLContentType is the Content-Type to serve the stylesheets with. Browsers apply an
// <?xml-stylesheet?> only when the stylesheet comes from the feed's own origin with an XML or
// XSL type.
const XSLContentType = "text/xsl; charset=utf-8"

// XSL returns the stylesheet that shows a feed of format (syndicate.FormatRSS or FormatAtom) as
// a readable Chinese page with a "how to subscribe" note. JSON Feed has none: browsers do not
// style JSON. Each call returns a fresh copy.
func XSL(format string) ([]byte, bool) {
	if format != syndicate.FormatRSS && format != syndicate.FormatAtom {
		return nil, false
	}
	b, err := xslFiles.ReadFile("xsl/" + format + ".xsl")
	if err != nil {
		return nil, false // cannot happen: both files are embedded above
	}
	return b, true
}
