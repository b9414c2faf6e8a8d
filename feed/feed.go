// Package feed renders one channel's articles as RSS 2.0, Atom 1.0 (RFC 4287) and JSON Feed 1.1
// documents, both its subscription feed and the pages of its RFC 5005 archive (archive.go), and
// holds the XSL stylesheets that show the XML feeds in a browser.
//
// github.com/gorilla/feeds does the encoding; this package cleans the input first (text hygiene,
// HTML sanitising, absolute URLs, fallbacks for empty fields) and then wraps gorilla's exported
// per-format structs to add what v1.2.0 leaves out: stable ids, namespaces, self/hub links,
// categories, several authors, dates and languages. Rendering is a pure function of its Input:
// equal inputs give byte-identical documents, because ETags are hashes of the bytes and every
// replica must serve the same ones.
package feed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gorilla/feeds"
	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
)

// Input is everything one channel's feed documents are rendered from.
type Input struct {
	Site       syndicate.Site
	Tree       *syndicate.Tree     // channel tree: item categories are the titles along each item's channel path
	Channel    syndicate.Channel   // the channel whose feed this is
	Items      []syndicate.Article // in document order: newest first, or oldest first on an archive page
	Updated    time.Time           // feed-level updated / lastBuildDate (caller passes newest item UpdatedAt, or build time if none)
	TTL        time.Duration       // RSS <ttl> minutes derived from the schedule; 0 = omit
	Hubs       []string            // WebSub hub URLs; empty = none
	Stylesheet map[string]string   // format -> XSL URL for <?xml-stylesheet?> (rss, atom); empty/nil = none
	Archive    Archive             // RFC 5005 archive links; the zero value is a feed without archive pages
}

// Generator is the name feeds give as their generator.
const Generator = "Syndicate"

// ErrUnknownFormat is returned for a format other than syndicate.FormatRSS, FormatAtom and
// FormatJSON.
var ErrUnknownFormat = errors.New("unknown feed format")

// encoders turn a prepared document into one format's bytes.
var encoders = map[string]func(*document) ([]byte, error){
	syndicate.FormatRSS:  encodeRSS,
	syndicate.FormatAtom: encodeAtom,
	syndicate.FormatJSON: encodeJSON,
}

// Render renders in as one format.
func Render(in Input, format string) ([]byte, error) {
	enc, ok := encoders[format]
	if !ok {
		return nil, fmt.Errorf("feed: %w %q", ErrUnknownFormat, format)
	}
	d, err := prepare(in)
	if err != nil {
		return nil, err
	}
	body, err := enc(d)
	if err != nil {
		return nil, fmt.Errorf("feed: render %s.%s: %w", in.Channel.Slug, format, err)
	}
	return body, nil
}

// RenderAll renders in in every format of syndicate.Formats. The input is cleaned and sanitised
// once for all three.
func RenderAll(in Input) (map[string][]byte, error) {
	d, err := prepare(in)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(syndicate.Formats))
	for _, f := range syndicate.Formats {
		body, err := encoders[f](d)
		if err != nil {
			return nil, fmt.Errorf("feed: render %s.%s: %w", in.Channel.Slug, f, err)
		}
		out[f] = body
	}
	return out, nil
}

// maxStylesheetHref bounds the stylesheet URL. Readers sniff the root element in the first few
// KB (gofeed v1.4.2 looks at 4096 bytes and reports "failed to detect feed type" beyond), so a
// runaway href must not push it out; such a URL is a misconfiguration and is left out.
const maxStylesheetHref = 2048

// writeXML encodes an XML feed after the XML declaration and, when xsl is set, an
// xml-stylesheet processing instruction (W3C "Associating Style Sheets with XML documents").
// It takes the same feeds.XmlFeed as gorilla's WriteXML, which has no place for the instruction
// (it writes the declaration and the root element on one line).
func writeXML(f feeds.XmlFeed, xsl string, sizeHint int) ([]byte, error) {
	xsl = strings.TrimSpace(sanitize.Text(xsl))
	if len(xsl) > maxStylesheetHref {
		xsl = ""
	}
	var buf bytes.Buffer
	buf.Grow(sizeHint) // growing a 100 KB document by doubling allocates it twice over
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if xsl != "" {
		var inst bytes.Buffer
		inst.WriteString(`type="text/xsl" href="`)
		if err := xml.EscapeText(&inst, []byte(xsl)); err != nil {
			return nil, fmt.Errorf("stylesheet href: %w", err)
		}
		inst.WriteByte('"')
		if err := enc.EncodeToken(xml.ProcInst{Target: "xml-stylesheet", Inst: inst.Bytes()}); err != nil {
			return nil, fmt.Errorf("stylesheet instruction: %w", err)
		}
		if err := enc.Flush(); err != nil {
			return nil, err
		}
		buf.WriteByte('\n') // the encoder puts no line break after a processing instruction
	}
	if err := enc.Encode(f.FeedXml()); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
