package storesql

import (
	"fmt"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Encodings of a stored document body.
const (
	encodingIdentity = "identity"
	encodingGzip     = "gzip"
)

// StoredBody returns what a store saves for d, and its encoding: the gzip bytes when the build
// compressed the document, so the store writes a fraction of the bytes.
func StoredBody(d syndicate.Document) ([]byte, string) {
	if d.Gzip != nil {
		return d.Gzip, encodingGzip
	}
	return d.Body, encodingIdentity
}

// LoadedBody fills d from a saved body and its encoding.
func LoadedBody(d *syndicate.Document, body []byte, encoding string) error {
	switch encoding {
	case encodingIdentity:
		d.Body, d.Gzip = body, nil
	case encodingGzip:
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

// ScanDocuments reads rows of (channel, format, body, encoding, etag, modified) and calls fn with
// each document in turn, stopping at fn's first error; at converts the engine's modified (T).
func ScanDocuments[T any](rows Rows, at func(T) time.Time, fn func(syndicate.Document) error) error {
	for rows.Next() {
		var d syndicate.Document
		var body []byte
		var enc string
		var mod T
		if err := rows.Scan(&d.Channel, &d.Format, &body, &enc, &d.ETag, &mod); err != nil {
			return fmt.Errorf("scan document: %w", err)
		}
		if err := LoadedBody(&d, body, enc); err != nil {
			return err
		}
		d.Modified = at(mod)
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}
