// Package demo holds the data `make run` starts with: the portal's 零陵 story, loaded into an
// empty store so a fresh checkout serves a real feed and emits a real event.
package demo

import (
	"bytes"
	_ "embed"
	"fmt"

	syndicate "github.com/yongzhou-news/syndicate"
)

//go:embed lingling-article.json
var lingling []byte

// Articles returns the demo records, decoded.
func Articles() ([]syndicate.DecodeResult, error) {
	recs, err := syndicate.DecodeArticles(bytes.NewReader(lingling))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	for _, r := range recs {
		if r.Err != nil {
			return nil, fmt.Errorf("demo: record %d: %w", r.Index, r.Err)
		}
	}
	return recs, nil
}
