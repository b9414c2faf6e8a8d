package feed

import (
	"bytes"
	"testing"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Links reach readers in the form their HTTP clients open: an internationalised host in Punycode
// (url.URL.String alone would percent-encode it, which no resolver understands), an IP literal
// and a port as they are, and no user information from an article saved before input refused it.
func TestLinkHosts(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://例子.测试/路径?q=中&r=a%20b", "http://xn--fsqu00a.xn--0zwm56d/%E8%B7%AF%E5%BE%84?q=%E4%B8%AD&r=a%20b"},
		{"https://Bücher.example:8443/a", "https://xn--bcher-kva.example:8443/a"},
		{"http://[2001:db8::1]:8080/a", "http://[2001:db8::1]:8080/a"},
		{"https://news.example/a.html", "https://news.example/a.html"},
		{"http://trusted.example@evil.example/", "http://evil.example/"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			a := fixtureArticle(t)
			a.URL = tc.url
			out, err := RenderAll(fixtureInput(t, a))
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range syndicate.Formats {
				got, err := gofeed.NewParser().Parse(bytes.NewReader(out[f]))
				if err != nil {
					t.Fatalf("%s: gofeed: %v", f, err)
				}
				if len(got.Items) != 1 {
					t.Fatalf("%s: %d items, want 1", f, len(got.Items))
				}
				if got.Items[0].Link != tc.want {
					t.Errorf("%s: item link %q, want %q", f, got.Items[0].Link, tc.want)
				}
			}
		})
	}
}
