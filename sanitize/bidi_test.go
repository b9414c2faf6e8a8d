package sanitize

import "testing"

func TestBalanceBidi(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"零陵新闻 “复工” — 2022", "零陵新闻 “复工” — 2022"},
		{"\u202eevil", "\u202eevil\u202c"},
		{"a\u202bb\u202dc", "a\u202bb\u202dc\u202c\u202c"},
		{"a\u202eb\u202c", "a\u202eb\u202c"},
		{"\u2067مرحبا", "\u2067مرحبا\u2069"},
		{"\u2068a\u202eb\u2069c", "\u2068a\u202eb\u2069c"}, // the PDI closes the override inside its isolate
		{"\u202ba\u2066b", "\u202ba\u2066b\u2069\u202c"},   // closed innermost first
		{"\u202c\u2069plain", "\u202c\u2069plain"},         // stray closers open nothing
		{"\u2066a\u202cb", "\u2066a\u202cb\u2069"},         // a PDF does not close an isolate
		{"tail \xe2\x80", "tail \xe2\x80"},                 // a cut sequence at the end
	} {
		if got := BalanceBidi(tc.in); got != tc.want {
			t.Errorf("BalanceBidi(%+q) = %+q, want %+q", tc.in, got, tc.want)
		}
	}
}

func TestLineClosesOverrides(t *testing.T) {
	if got, want := Line("&lt;b&gt;\u202eevil&lt;/b&gt;"), "\u202eevil\u202c"; got != want {
		t.Errorf("Line = %+q, want %+q", got, want)
	}
}
