package ingest

import (
	"strings"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
)

// TestWeight: a record weighs at least its size as sent, whatever it is made of, so that records
// of long lists cannot crowd the import's memory while each counts for little text; records no
// decoder read (upstream items) weigh their text.
func TestWeight(t *testing.T) {
	lists := `{"id":"l1","authors":[""` + strings.Repeat(`,""`, 300_000) + `]}` // 900 KB, no text
	text := `{"id":"t1","summary":"` + strings.Repeat("零", 100_000) + `"}`
	tests := []struct {
		name string
		rec  syndicate.DecodeResult
		want int64
	}{
		{"small record", decodeOne(t, `{"id":"s1"}`), 512},
		{"lists", decodeOne(t, lists), int64(len(lists))},
		{"text", decodeOne(t, text), 300_000 + 512}, // its text, and what every record has besides
		{"upstream item", syndicate.DecodeResult{Article: syndicate.Article{Title: "t", ContentHTML: strings.Repeat("x", 10_000)}}, 10_001 + 512},
		{"larger than the import holds", decodeOne(t, `{"id":"b1","authors":[""`+strings.Repeat(`,""`, 2_000_000)+`]}`), maxInFlightBytes},
	}
	for _, tt := range tests {
		if got := weight(tt.rec); got != tt.want {
			t.Errorf("%s: weight %d, want %d", tt.name, got, tt.want)
		}
	}
}

// decodeOne decodes a one-record body as an import reads it.
func decodeOne(t *testing.T, body string) syndicate.DecodeResult {
	t.Helper()
	for rec := range syndicate.NewDecoder(strings.NewReader(body), syndicate.Limits{}).Records() {
		return rec
	}
	t.Fatalf("no record in %.40s", body)
	return syndicate.DecodeResult{}
}
