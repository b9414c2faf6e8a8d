package feed

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// captionContent is a story whose photos carry Chinese captions, and attempts to break out of
// an attribute.
const captionContent = `<p>零陵古城。</p>` +
	`<p><img src="images/a.jpg" alt="零陵古城，（摄影：黎俊）" title="零陵古城：东门（图）"></p>` +
	`<p><img src="images/b.jpg" alt="x&quot; onerror=&quot;alert(1)"></p>` +
	`<p><img src="images/c.jpg" alt="<script>alert(1)</script>"></p>` +
	`<p><img src="images/d.jpg" title="javascript:alert(1)" alt='引号"与<尖括号>'></p>`

// wantCaptions are the img attributes a reader must see, in order.
var wantCaptions = []map[string]string{
	{"alt": "零陵古城，（摄影：黎俊）", "title": "零陵古城：东门（图）"},
	{"alt": `x" onerror="alert(1)`},
	{"alt": "<script>alert(1)</script>"},
	{"alt": `引号"与<尖括号>`, "title": "javascript:alert(1)"},
}

// TestCaptionsAsReadersShowThem: photo captions in alt and title survive sanitising in every
// format, read with gofeed and feedparser, and the attack cases stay inert text.
func TestCaptionsAsReadersShowThem(t *testing.T) {
	a := fixtureArticle(t)
	a.URL = "http://localhost:8080/news/2022/11/16/kangyi.html"
	a.ContentHTML = captionContent
	for format, views := range readAll(t, fixtureInput(t, a)) {
		for _, v := range views {
			who := format + " via " + v.Reader
			checkCaptions(t, who, v.Items[0].Content)
		}
	}
}

func checkCaptions(t *testing.T, who, content string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(content))
	if err != nil {
		t.Fatalf("%s: content does not parse: %v", who, err)
	}
	var imgs []map[string]string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" {
				t.Errorf("%s: a script element in the content: %s", who, content)
			}
			for _, at := range n.Attr {
				if strings.HasPrefix(at.Key, "on") {
					t.Errorf("%s: event handler %s=%q on <%s>", who, at.Key, at.Val, n.Data)
				}
			}
			if n.Data == "img" {
				attrs := map[string]string{}
				for _, at := range n.Attr {
					attrs[at.Key] = at.Val
				}
				if !strings.HasPrefix(attrs["src"], "http://localhost:8080/") {
					t.Errorf("%s: img src %q", who, attrs["src"])
				}
				imgs = append(imgs, attrs)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(imgs) != len(wantCaptions) {
		t.Fatalf("%s: %d images, want %d:\n%s", who, len(imgs), len(wantCaptions), content)
	}
	for i, want := range wantCaptions {
		for _, key := range []string{"alt", "title"} {
			if imgs[i][key] != want[key] {
				t.Errorf("%s: image %d %s=%q, want %q", who, i, key, imgs[i][key], want[key])
			}
		}
	}
}
