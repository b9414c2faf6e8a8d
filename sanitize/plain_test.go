package sanitize

import (
	"strings"
	"testing"
)

// deepNesting hides a tag behind more nested tags than StripTags makes passes: each pass strips
// one "<a>", and the last reveals the <img>.
var deepNesting = "<img src=x onerror=alert(1) " + strings.Repeat("<a", 8) + strings.Repeat(">", 8) + ">"

func TestLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"escaped markup decoded, then stripped", "&lt;script&gt;alert(1)&lt;/script&gt;标题", "alert(1) 标题"},
		{"escaped twice stays text", "&amp;lt;script&amp;gt;", "&lt;script&gt;"},
		{"raw markup stripped", "<b>汇聚</b>“红”力量", "汇聚 “红”力量"},
		{"nested tags", "<scr<script>ipt>x", "x"},
		{"lone less-than kept", "1<2 and 3 > 2", "1<2 and 3 > 2"},
		{"not a tag: CJK after <", "<纪实>", "<纪实>"},
		{"entities", "AT&amp;T &quot;x&quot;&nbsp;y", `AT&T "x" y`},
		{"decoded control character dropped", "a&#1;b", "ab"},
		{"comment", "a<!-- x\ny -->b", "a b"},
		{"white space", "  a \n\t b\u3000c  ", "a b c"},
		{"nested deeper than the passes", deepNesting, "img src=x onerror=alert(1)"},
		{"nested deeper, as entities", strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(deepNesting), "img src=x onerror=alert(1)"},
		{"nested deeper, lone less-than lost too", "1<2 " + deepNesting, "1 2 img src=x onerror=alert(1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestPlain: Plain is Line without the decoding, so text a tokenizer decoded already keeps its
// visible entities, and gets the same tag stripping.
func TestPlain(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"entities stay", "&lt;b&gt; a&amp;b", "&lt;b&gt; a&amp;b"},
		{"tags stripped", "<b>汇聚</b>\u3000力量", "汇聚 力量"},
		{"nested deeper than the passes", deepNesting, "img src=x onerror=alert(1)"},
		{"control character dropped", "a\x01b", "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Plain(tt.in); got != tt.want {
				t.Errorf("Plain(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestHTMLKeepsCaptions: alt and title keep text in any script (UGCPolicy's pattern dropped
// Chinese punctuation), and what would break out of the attribute stays inside it.
func TestHTMLKeepsCaptions(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"Chinese caption", `<img src="a.jpg" alt="零陵古城，（摄影：黎俊）" title="东门：城楼（图）">`,
			`<img src="a.jpg" alt="零陵古城，（摄影：黎俊）" title="东门：城楼（图）">`},
		{"quote stays in the value", `<img src="a.jpg" alt="x&quot; onerror=&quot;alert(1)">`, `<img src="a.jpg" alt="x&quot; onerror=&quot;alert(1)">`},
		{"markup stays text", `<img src="a.jpg" alt="<script>alert(1)</script>">`, `<img src="a.jpg" alt="&lt;script&gt;alert(1)&lt;/script&gt;">`},
		{"javascript: is text in a title", `<p title="javascript:alert(1)">x</p>`, `<p title="javascript:alert(1)">x</p>`},
		{"javascript: still no URL", `<a href="javascript:alert(1)" title="链接：说明">x</a>`, `<a title="链接：说明">x</a>`},
		{"handlers still dropped", `<img src="a.jpg" alt="图" onerror="alert(1)">`, `<img src="a.jpg" alt="图">`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HTML(tt.in).HTML; got != tt.want {
				t.Errorf("HTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}
