package sanitize

import "strings"

// Directional formatting characters (Unicode Bidirectional Algorithm, UAX #9 §2).
const (
	lre, rle, pdf, lro, rlo = '\u202A', '\u202B', '\u202C', '\u202D', '\u202E'
	lri, rli, fsi, pdi      = '\u2066', '\u2067', '\u2068', '\u2069'
)

// BalanceBidi closes the embeddings, overrides and isolates s opens and leaves open, in the
// order they were opened: a title ending inside U+202E (right-to-left override) would otherwise
// reverse whatever a reader shows after it on the same line (the date, the next title). Text
// that opens none is returned as it is, without allocating.
func BalanceBidi(s string) string {
	if !opensBidi(s) {
		return s
	}
	var open []rune // what each open level was opened by
	for _, r := range s {
		switch r {
		case lre, rle, lro, rlo, lri, rli, fsi:
			open = append(open, r)
		case pdf: // closes the innermost embedding or override, not across an isolate
			if n := len(open); n > 0 && open[n-1] != lri && open[n-1] != rli && open[n-1] != fsi {
				open = open[:n-1]
			}
		case pdi: // closes the innermost isolate and every embedding opened inside it
			for i := len(open) - 1; i >= 0; i-- {
				if open[i] == lri || open[i] == rli || open[i] == fsi {
					open = open[:i]
					break
				}
			}
		}
	}
	if len(open) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 3*len(open))
	b.WriteString(s)
	for i := len(open) - 1; i >= 0; i-- {
		if open[i] == lri || open[i] == rli || open[i] == fsi {
			b.WriteRune(pdi)
		} else {
			b.WriteRune(pdf)
		}
	}
	return b.String()
}

// opensBidi reports whether s holds a character that opens an embedding, override or isolate.
// They are U+202A–U+202E and U+2066–U+2068, E2 80 AA–AE and E2 81 A6–A8 in UTF-8: a scan for
// their first byte, which CJK ideographs never use, costs little on text that holds none.
func opensBidi(s string) bool {
	for i := 0; ; i++ {
		j := strings.IndexByte(s[i:], 0xE2)
		if j < 0 || i+j+2 >= len(s) {
			return false
		}
		i += j
		b1, b2 := s[i+1], s[i+2]
		if b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE && b2 != 0xAC || b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA8 {
			return true
		}
	}
}
