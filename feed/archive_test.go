package feed

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"
	syndicate "github.com/yongzhou-news/syndicate"
)

// feedLinks returns a rendered XML document's links by relation (Atom <link>, RSS atom:link) and
// whether it carries <fh:archive/>, as gofeed reads them.
func feedLinks(t *testing.T, format string, body []byte) (map[string][]string, bool) {
	t.Helper()
	links := map[string][]string{}
	switch format {
	case syndicate.FormatAtom:
		f, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gofeed atom: %v", err)
		}
		for _, l := range f.Links {
			links[l.Rel] = append(links[l.Rel], l.Href)
		}
		return links, len(f.Extensions["fh"]["archive"]) == 1
	case syndicate.FormatRSS:
		f, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("gofeed rss: %v", err)
		}
		for _, l := range f.Extensions["atom"]["link"] {
			links[l.Attrs["rel"]] = append(links[l.Attrs["rel"]], l.Attrs["href"])
		}
		return links, len(f.Extensions["fh"]["archive"]) == 1
	}
	t.Fatalf("no links in %s", format)
	return nil, false
}

// TestArchiveLinks checks RFC 5005 §4's links in every position of an archive of three pages,
// and JSON Feed 1.1's next_url paging towards older items.
func TestArchiveLinks(t *testing.T) {
	const feeds = "http://localhost:8080/feeds/"
	tests := []struct {
		name                      string
		archive                   Archive
		self, current, prev, next string // Atom URLs; "" when absent
		jsonNext                  string
	}{
		{"no archive yet", Archive{}, feeds + "lingling.atom", "", "", "", ""},
		{"subscription", Archive{Pages: 3}, feeds + "lingling.atom", "", feeds + "lingling/archive/3.atom", "", feeds + "lingling/archive/3.json"},
		{"oldest page", Archive{Page: 1, Pages: 3}, feeds + "lingling/archive/1.atom", feeds + "lingling.atom", "", feeds + "lingling/archive/2.atom", ""},
		{"middle page", Archive{Page: 2, Pages: 3}, feeds + "lingling/archive/2.atom", feeds + "lingling.atom", feeds + "lingling/archive/1.atom", feeds + "lingling/archive/3.atom", feeds + "lingling/archive/1.json"},
		{"newest page", Archive{Page: 3, Pages: 3}, feeds + "lingling/archive/3.atom", feeds + "lingling.atom", feeds + "lingling/archive/2.atom", "", feeds + "lingling/archive/2.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixtureInput(t, richArticle(t), fixtureArticle(t))
			in.Archive = tt.archive
			out, err := RenderAll(in)
			if err != nil {
				t.Fatal(err)
			}
			isArchive := tt.archive.Page > 0
			for _, f := range []string{syndicate.FormatAtom, syndicate.FormatRSS} {
				walkXML(t, out[f])
				links, fh := feedLinks(t, f, out[f])
				if fh != isArchive {
					t.Errorf("%s: fh:archive present = %v, want %v", f, fh, isArchive)
				}
				if got := strings.Contains(string(out[f]), `xmlns:fh="`+nsHistory+`"`); got != isArchive {
					t.Errorf("%s: fh namespace declared = %v, want %v", f, got, isArchive)
				}
				ext := func(u string) string { return strings.Replace(u, ".atom", "."+f, 1) }
				for rel, want := range map[string]string{"self": tt.self, "current": tt.current, "prev-archive": tt.prev, "next-archive": tt.next} {
					var wantList []string
					if want != "" {
						wantList = []string{ext(want)}
					}
					eqList(t, f+" "+rel, links[rel], wantList)
				}
			}
			var j struct {
				FeedURL string `json:"feed_url"`
				NextURL string `json:"next_url"`
			}
			if err := json.Unmarshal(out[syndicate.FormatJSON], &j); err != nil {
				t.Fatal(err)
			}
			eq(t, "json next_url", j.NextURL, tt.jsonNext)
			eq(t, "json feed_url", j.FeedURL, feeds+"lingling.json") // the feed's identity on every page
		})
	}
}

func TestArchiveErrors(t *testing.T) {
	for _, a := range []Archive{{Page: 4, Pages: 3}, {Page: -1}, {Pages: -1}, {Page: 1}} {
		in := fixtureInput(t, fixtureArticle(t))
		in.Archive = a
		if _, err := Render(in, syndicate.FormatAtom); err == nil || !strings.HasPrefix(err.Error(), "feed: ") {
			t.Errorf("archive %+v: err = %v, want a feed: error", a, err)
		}
	}
}

func TestArchiveURLs(t *testing.T) {
	eq(t, "path", ArchivePath("lingling", 12, "rss"), "/feeds/lingling/archive/12.rss")
	eq(t, "url", ArchiveURL(testSite, syndicate.SiteFeed, 1, "json"), "http://localhost:8080/feeds/all/archive/1.json")
	for count, want := range map[int]int{0: 0, 49: 0, 50: 1, 180: 3, 200: 4} {
		if got := CompletePages(count); got != want {
			t.Errorf("CompletePages(%d) = %d, want %d", count, got, want)
		}
	}
}

// TestArchiveXSLTransform checks the browser view of an archive page: it offers the feed itself,
// not the page, as the address to subscribe to.
func TestArchiveXSLTransform(t *testing.T) {
	xsltproc, err := exec.LookPath("xsltproc")
	if err != nil {
		t.Skip("xsltproc not installed (apt-get install xsltproc)")
	}
	in := fixtureInput(t, richArticle(t), fixtureArticle(t))
	in.Archive = Archive{Page: 2, Pages: 3}
	out, err := RenderAll(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{syndicate.FormatRSS, syndicate.FormatAtom} {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "2."+f)
			if err := os.WriteFile(path, out[f], 0o644); err != nil {
				t.Fatal(err)
			}
			page, err := exec.Command(xsltproc, filepath.Join("xsl", f+".xsl"), path).CombinedOutput()
			if err != nil {
				t.Fatalf("xsltproc: %v\n%s", err, page)
			}
			if want := `<code class="url">http://localhost:8080/feeds/lingling.` + f + `</code>`; !strings.Contains(string(page), want) {
				t.Errorf("page lacks %s:\n%s", want, page)
			}
			if !strings.Contains(string(page), "往期文章") || strings.Contains(string(page), "最新文章") {
				t.Errorf("archive page not titled as one:\n%.2000s", page)
			}
		})
	}
}
