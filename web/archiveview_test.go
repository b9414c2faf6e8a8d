package web_test

import (
	"fmt"
	"strings"
	"testing"
)

// A person who opens an archive page in a browser and copies the address the page offers must
// get the channel's feed: subscribed to, an archive page would never show a new story.
func TestArchivePageViewOffersTheFeedToSubscribe(t *testing.T) {
	e := newArchiveEnv(t)
	e.add(60)
	e.build()
	for _, format := range []string{"rss", "atom", "json"} {
		t.Run(format, func(t *testing.T) {
			page := fmt.Sprintf("%s/feeds/lingling/archive/1.%s", publicBase, format)
			feed := fmt.Sprintf("%s/feeds/lingling.%s", publicBase, format)
			resp, body := e.get(page, "Accept", "text/html", "Sec-Fetch-Dest", "document")
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("Content-Type %q, want the HTML view", ct)
			}
			html := string(body)
			for _, want := range []string{"<code>" + feed + "</code>", `data-copy="` + feed + `"`, "归档"} {
				if !strings.Contains(html, want) {
					t.Errorf("the archive page's view lacks %q", want)
				}
			}
			if strings.Contains(html, `data-copy="`+page+`"`) || strings.Contains(html, "<code>"+page) {
				t.Errorf("the archive page's view offers the page itself to subscribe to")
			}
		})
	}
	// The feed's own view still offers itself, without the archive note.
	_, body := e.get(publicBase+"/feeds/lingling.atom", "Accept", "text/html", "Sec-Fetch-Dest", "document")
	if html := string(body); !strings.Contains(html, "<code>"+publicBase+"/feeds/lingling.atom</code>") || strings.Contains(html, "归档") {
		t.Errorf("the feed's view changed:\n%.600s", html)
	}
}
