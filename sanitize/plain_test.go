package sanitize

import "testing"

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.want {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
