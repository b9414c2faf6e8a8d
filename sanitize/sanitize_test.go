package sanitize

import (
	"testing"
	"unicode/utf8"

	syndicate "github.com/yongzhou-news/syndicate"
)

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "零陵 abc", "零陵 abc"},
		{"control chars", "a\x00b\x01c\x08d\x0be\x1f", "abcde"},
		{"tab newline cr kept", "a\tb\nc\rd", "a\tb\nc\rd"},
		{"invalid utf-8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"noncharacters", "a\uFFFEb\uFFFFc", "abc"},
		{"emoji and rtl marks kept", "😀\u200f\u202eא", "😀\u200f\u202eא"},
		{"cdata end kept (encoders split it)", "]]>", "]]>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestIsCleanText holds the byte-wise check to the rune-wise definition it replaces, on the
// byte sequences where the two could part: the encodings around U+FFFE/U+FFFF, surrogates,
// overlong and cut-off sequences.
func TestIsCleanText(t *testing.T) {
	inputs := []string{
		"", "零陵 abc", "a\tb\nc\rd", "a\x00", "\x1f", "\x7f", "\uFFFD", "\uFFFC", "\uFFFE", "\uFFFF",
		"x\xef\xbf", "x\xef\xbf\xbe", "\xef\xbf\xbfy", "\xef\xbe\xbf", "\xed\xa0\x80", "\xed\x9f\xbf",
		"\xc0\xaf", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "😀", "\xf0\x9f\x98", "\U0010FFFE", "\uE000", "\uD7FF",
	}
	for _, in := range inputs {
		if got, want := isCleanText(in), runeWiseClean(in); got != want {
			t.Errorf("isCleanText(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzIsCleanText(f *testing.F) {
	for _, s := range []string{"零陵", "\uFFFE", "\xef\xbf", "a\x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isCleanText(s), runeWiseClean(s); got != want {
			t.Fatalf("isCleanText(%q) = %v, want %v", s, got, want)
		}
	})
}

// runeWiseClean is the definition: valid UTF-8 of XML 1.0 characters only.
func runeWiseClean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
			return false
		}
		i += size
	}
	return true
}

func TestHTML(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"allowed markup kept", `<p>零陵<img src="a.png" alt="x"></p>`, `<p>零陵<img src="a.png" alt="x"></p>`},
		{"relative links stay relative", `<a href="/x">x</a>`, `<a href="/x">x</a>`},
		{"script dropped", `<p>a</p><script>alert(1)</script>`, `<p>a</p>`},
		{"controls dropped before parsing", "<p>a\x01b</p>", `<p>ab</p>`},
		{"blank", " \n ", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HTML(tt.in)
			if got != (syndicate.Sanitized{Policy: Policy, HTML: tt.want}) {
				t.Errorf("HTML(%q) = %+v, want %q under %q", tt.in, got, tt.want, Policy)
			}
		})
	}
}
