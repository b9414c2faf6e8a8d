package feed

import (
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
)

func TestPlainLine(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"markup stripped", "<b>汇聚</b>“红”力量", "汇聚 “红”力量"},
		{"entities decoded", "AT&amp;T &quot;x&quot;&nbsp;y", `AT&T "x" y`},
		{"lone less-than kept", "1<2 and 3 > 2", "1<2 and 3 > 2"},
		{"comment stripped", "a<!-- x\ny -->b", "a b"},
		{"whitespace collapsed", "  a \n\t b\u3000c  ", "a b c"},
		{"decoded control char removed", "a&#1;b", "ab"},
		{"script tag stripped, text kept", "<script>alert(1)</script>", "alert(1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitize.Line(tt.in); got != tt.want {
				t.Errorf("sanitize.Line(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"短标题", 10, "短标题"},
		{"关键时刻冲得上,危难关头豁得出。", 8, "关键时刻冲得上…"},
		{"one two three four five", 16, "one two three…"},
		{"one two three four five", 12, "one two thr…"}, // no space near the end: cut at the rune
		{"abcdef", 6, "abcdef"},
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestSafeContent(t *testing.T) {
	base, _ := url.Parse("http://localhost:8080/news/2022/a.html")
	tests := []struct{ name, in, want string }{
		{"keeps structure", `<h3>标题</h3><p>段落<br>换行</p><table><tr><td>1</td></tr></table>`, `<h3>标题</h3><p>段落<br>换行</p><table><tr><td>1</td></tr></table>`},
		{"drops script and style", `<p>a</p><script>alert(1)</script><style>p{}</style>`, `<p>a</p>`},
		{"drops event handlers", `<img src="x.png" onerror="alert(1)">`, `<img src="http://localhost:8080/news/2022/x.png">`},
		{"drops javascript URLs", `<a href="javascript:alert(1)">x</a>`, `x`},
		{"absolute links", `<a href="/channels/lingling">零陵</a>`, `<a href="http://localhost:8080/channels/lingling">零陵</a>`},
		{"fragment", `<a href="#p2">下文</a>`, `<a href="http://localhost:8080/news/2022/a.html#p2">下文</a>`},
		{"absolute untouched", `<a href="https://hn.rednet.cn/x?a=1&amp;b=2">x</a>`, `<a href="https://hn.rednet.cn/x?a=1&amp;b=2">x</a>`},
		{"control chars from references", `<p>a&#1;b&#xFFFE;c</p>`, `<p>abc</p>`},
		{"cdata end escaped", `<p>]]></p>`, `<p>]]&gt;</p>`},
		{"empty", "  ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Sanitised now, or at import with the result kept: the same bytes either way.
			fresh := syndicate.Article{ContentHTML: tt.in}
			kept := syndicate.Article{ContentHTML: tt.in, Sanitized: sanitize.HTML(tt.in)}
			for _, a := range []syndicate.Article{fresh, kept} {
				if got := safeContent(&a, base); got != tt.want {
					t.Errorf("safeContent(%q, kept %v)\n got %q\nwant %q", tt.in, a.Sanitized.Policy != "", got, tt.want)
				}
			}
		})
	}
}

// TestSafeContentPolicy checks which sanitised content a render trusts: the kept result when it
// was made under the current policy, the original sanitised again otherwise.
func TestSafeContentPolicy(t *testing.T) {
	base, _ := url.Parse("http://localhost:8080/news/2022/a.html")
	tests := []struct {
		name string
		kept syndicate.Sanitized
		want string
	}{
		{"current policy: kept result", syndicate.Sanitized{Policy: sanitize.Policy, HTML: `<p>kept <a href="b.html">b</a></p>`},
			`<p>kept <a href="http://localhost:8080/news/2022/b.html">b</a></p>`},
		{"older policy: sanitised again", syndicate.Sanitized{Policy: "ugc-0", HTML: `<p>kept</p><script>x</script>`}, `<p>original</p>`},
		{"never sanitised", syndicate.Sanitized{}, `<p>original</p>`},
		{"current policy, empty content", syndicate.Sanitized{Policy: sanitize.Policy}, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := syndicate.Article{ContentHTML: `<p>original</p><script>alert(1)</script>`, Sanitized: tt.kept}
			if got := safeContent(&a, base); got != tt.want {
				t.Errorf("safeContent = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFallbacks checks that no required element is ever empty.
func TestFallbacks(t *testing.T) {
	pub := time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC)
	updated := time.Date(2022, 11, 17, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name               string
		a                  syndicate.Article
		title, summary     string
		published, updated time.Time
	}{
		{
			name:  "title from summary",
			a:     syndicate.Article{ID: "a1", Summary: "关键时刻冲得上,危难关头豁得出。疫情期间,他们是冲在防控一线的战斗员、守门员、宣传员。", PublishedAt: pub},
			title: "关键时刻冲得上,危难关头豁得出。疫情期间,他们是冲在防控一线的战斗员、守门员…", summary: "关键时刻冲得上,危难关头豁得出。疫情期间,他们是冲在防控一线的战斗员、守门员、宣传员。",
			published: pub, updated: pub,
		},
		{
			name:  "summary and title from content",
			a:     syndicate.Article{ID: "a2", ContentHTML: "<script>x()</script><p>第一段。</p><p>第二段。</p>", PublishedAt: pub, UpdatedAt: updated},
			title: "第一段。 第二段。", summary: "第一段。 第二段。",
			published: pub, updated: updated,
		},
		{
			// The tokenizer decodes the entities into a tag nested deeper than StripTags makes
			// passes; no tag may come out of that.
			name: "content text nested deeper than the strip passes",
			a: syndicate.Article{ID: "a5", ContentHTML: "<p>&lt;img src=x onerror=alert(1) " + strings.Repeat("&lt;a", 8) + strings.Repeat("&gt;", 9) + "</p>",
				PublishedAt: pub},
			title: "img src=x onerror=alert(1)", summary: "img src=x onerror=alert(1)",
			published: pub, updated: pub,
		},
		{
			name:  "nothing at all",
			a:     syndicate.Article{ID: "a3", Title: "  <br> "},
			title: "(无标题)", summary: "(无标题)",
			published: updated, updated: updated, // the feed's own time
		},
		{
			name:  "updated before published",
			a:     syndicate.Article{ID: "a4", Title: "t", PublishedAt: updated, UpdatedAt: pub},
			title: "t", summary: "t",
			published: updated, updated: updated,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixtureInput(t, tt.a)
			in.Updated = updated
			d, err := prepare(in)
			if err != nil {
				t.Fatal(err)
			}
			it := d.items[0]
			if it.title != tt.title || it.summary != tt.summary {
				t.Errorf("title %q summary %q, want %q %q", it.title, it.summary, tt.title, tt.summary)
			}
			if !it.published.Equal(tt.published) || !it.updated.Equal(tt.updated) {
				t.Errorf("published %v updated %v, want %v %v", it.published, it.updated, tt.published, tt.updated)
			}
		})
	}
}

func TestUnsafeLinks(t *testing.T) {
	a := fixtureArticle(t)
	a.URL = "javascript:alert(1)"
	a.ImageURL = "data:image/png;base64,AAAA"
	d, err := prepare(fixtureInput(t, a))
	if err != nil {
		t.Fatal(err)
	}
	it := d.items[0]
	if it.link != "http://localhost:8080/articles/"+a.ID {
		t.Errorf("link %q, want Syndicate's own article page", it.link)
	}
	if it.image != "" {
		t.Errorf("image %q, want none", it.image)
	}
}

func TestDuplicateIDsDropped(t *testing.T) {
	a := fixtureArticle(t)
	d, err := prepare(fixtureInput(t, a, a))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.items) != 1 {
		t.Fatalf("%d items, want 1", len(d.items))
	}
}

func TestImageType(t *testing.T) {
	for in, want := range map[string]string{
		"http://x/a.JPG":         "image/jpeg",
		"http://x/a.png?w=640":   "image/png",
		"http://x/a.webp":        "image/webp",
		"http://x/image?id=3":    "image/jpeg",
		"http://x/dir.gif/photo": "image/jpeg",
	} {
		if got := imageType(in); got != want {
			t.Errorf("imageType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestXSL(t *testing.T) {
	for _, f := range []string{syndicate.FormatRSS, syndicate.FormatAtom} {
		t.Run(f, func(t *testing.T) {
			b, ok := XSL(f)
			if !ok {
				t.Fatal("no stylesheet")
			}
			walkXML(t, b)
			for _, want := range []string{`lang="zh-CN"`, `encoding="UTF-8"`, "如何订阅", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "rel='self'"} {
				if !strings.Contains(string(b), want) {
					t.Errorf("stylesheet lacks %q", want)
				}
			}
		})
	}
	if _, ok := XSL(syndicate.FormatJSON); ok {
		t.Error("a stylesheet for JSON Feed")
	}
}

// TestXSLTransform applies the stylesheets to the golden feeds with libxslt, the engine of
// Chrome and Safari, when it is installed.
func TestXSLTransform(t *testing.T) {
	xsltproc, err := exec.LookPath("xsltproc")
	if err != nil {
		t.Skip("xsltproc not installed (apt-get install xsltproc); the stylesheets are only checked for well-formedness")
	}
	for _, f := range []string{syndicate.FormatRSS, syndicate.FormatAtom} {
		t.Run(f, func(t *testing.T) {
			out, err := exec.Command(xsltproc, filepath.Join("xsl", f+".xsl"), filepath.Join("testdata", "lingling."+f)).CombinedOutput()
			if err != nil {
				t.Fatalf("xsltproc: %v\n%s", err, out)
			}
			for _, want := range []string{
				`<html lang="zh-CN">`, "<h1>零陵 - 红网永州站</h1>", "如何订阅",
				"http://localhost:8080/feeds/lingling." + f,
				`<a href="http://localhost:8080/articles/yongzhou-20221116-lingling-kangyi">汇聚“红”力量`,
				map[string]string{syndicate.FormatRSS: "彭沛, 黎俊", syndicate.FormatAtom: "彭沛、黎俊"}[f], // RSS: one dc:creator
				"#重要新闻",
			} {
				if !strings.Contains(string(out), want) {
					t.Errorf("page lacks %q:\n%s", want, out)
				}
			}
		})
	}
}
