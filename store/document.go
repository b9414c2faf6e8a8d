package store

import (
	"fmt"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Encodings of a stored document body.
const (
	EncodingIdentity = "identity"
	EncodingGzip     = "gzip"
)

// StoredBody returns what a store saves for d, and its encoding: the gzip bytes when the build
// compressed the document, so the store writes a fraction of the bytes.
func StoredBody(d syndicate.Document) ([]byte, string) {
	if d.Gzip != nil {
		return d.Gzip, EncodingGzip
	}
	return d.Body, EncodingIdentity
}

// LoadedBody fills d from a saved body and its encoding.
func LoadedBody(d *syndicate.Document, body []byte, encoding string) error {
	switch encoding {
	case EncodingIdentity:
		d.Body, d.Gzip = body, nil
	case EncodingGzip:
		plain, err := syndicate.Gunzip(body, 0)
		if err != nil {
			return fmt.Errorf("document %s.%s: %w", d.Channel, d.Format, err)
		}
		d.Body, d.Gzip = plain, body
	default:
		return fmt.Errorf("document %s.%s: unknown encoding %q", d.Channel, d.Format, encoding)
	}
	return nil
}
