package feed

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testSite is the site of the fixtures (see /work/shared/fixtures/channels.yaml).
var testSite = syndicate.Site{
	Title:    "红网永州站",
	BaseURL:  "http://localhost:8080",
	Language: "zh-CN",
	Timezone: "Asia/Shanghai",
	TagDate:  "2026",
}

// testTree is the part of the portal's channel tree the fixture article lives in.
func testTree(t testing.TB) *syndicate.Tree {
	t.Helper()
	tree, err := syndicate.NewTree([]syndicate.Channel{
		{Slug: "zhongyao-xinwen", Title: "重要新闻", Schedule: "*/5 * * * *"},
		{Slug: "xianshiqu", Title: "县市区", Schedule: "*/10 * * * *"},
		{Slug: "lingling", Title: "零陵", Parent: "xianshiqu", Schedule: "*/10 * * * *"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// fixtureArticle is the canonical story, decoded and normalised as the store would keep it.
func fixtureArticle(t testing.TB) syndicate.Article {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "lingling-article.json"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := syndicate.DecodeArticle(raw)
	if err != nil {
		t.Fatalf("decode fixture: %v", err)
	}
	a.Normalize()
	return a
}

// fixtureInput is the lingling feed as a build would render it, with a hub and stylesheets.
func fixtureInput(t testing.TB, items ...syndicate.Article) Input {
	t.Helper()
	tree := testTree(t)
	ch, _ := tree.Channel("lingling")
	in := Input{
		Site:    testSite,
		Tree:    tree,
		Channel: ch,
		Items:   items,
		TTL:     10 * time.Minute,
		Hubs:    []string{"https://websub.example.org/hub"},
		Stylesheet: map[string]string{
			syndicate.FormatRSS:  testSite.BaseURL + "/xsl/rss.xsl",
			syndicate.FormatAtom: testSite.BaseURL + "/xsl/atom.xsl",
		},
	}
	for _, a := range items {
		if a.UpdatedAt.After(in.Updated) {
			in.Updated = a.UpdatedAt
		}
	}
	return in
}

// richArticle exercises what the fixture lacks: a lead image, tags, its own URL, a later update
// and relative links in the content.
func richArticle(t testing.TB) syndicate.Article {
	a := fixtureArticle(t)
	a.ID = "yongzhou-20221117-lingling-huifu"
	a.Title = "零陵城区有序恢复生产生活秩序"
	a.Summary = "11月15日起，零陵区有序开放保供商店、商超和餐饮场所。"
	a.URL = "http://localhost:8080/news/2022/11/17/huifu.html"
	a.ContentHTML = `<p>有序恢复。</p><p><img src="images/street.jpg" alt="街景"></p><p><a href="/channels/lingling">更多零陵新闻</a></p>`
	a.ImageURL = "images/lead.png"
	a.Tags = []string{"疫情防控", "复工复产"}
	a.Channels = []string{"lingling"}
	a.PublishedAt = time.Date(2022, 11, 17, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	a.UpdatedAt = a.PublishedAt.Add(2 * time.Hour)
	return a
}

func TestGolden(t *testing.T) {
	out, err := RenderAll(fixtureInput(t, fixtureArticle(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range syndicate.Formats {
		t.Run(f, func(t *testing.T) {
			path := filepath.Join("testdata", "lingling."+f)
			if *update {
				if err := os.WriteFile(path, out[f], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./feed/ -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(out[f], want) {
				t.Errorf("%s differs from %s (rerun with -update if the change is intended): %s", f, path, firstDiff(out[f], want))
			}
		})
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(g), len(w)) {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d\n got %.300q\nwant %.300q", i+1, gl, wl)
		}
	}
	return "same lines"
}

// TestDeterministic renders the same input many times, through both entry points, and expects
// the same bytes: ETags are hashes of them.
func TestDeterministic(t *testing.T) {
	in := fixtureInput(t, richArticle(t), fixtureArticle(t))
	first, err := RenderAll(in)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, err := RenderAll(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range syndicate.Formats {
			one, err := Render(in, f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first[f], again[f]) || !bytes.Equal(first[f], one) {
				t.Fatalf("%s: rendering the same input twice gave different bytes", f)
			}
		}
	}
}

func TestStylesheetInstruction(t *testing.T) {
	tests := []struct {
		name, format, href, want string
	}{
		{"rss", syndicate.FormatRSS, "http://localhost:8080/xsl/rss.xsl", `<?xml-stylesheet type="text/xsl" href="http://localhost:8080/xsl/rss.xsl"?>`},
		{"atom", syndicate.FormatAtom, "/xsl/atom.xsl?v=1&x=2", `<?xml-stylesheet type="text/xsl" href="/xsl/atom.xsl?v=1&amp;x=2"?>`},
		{"none", syndicate.FormatRSS, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixtureInput(t, fixtureArticle(t))
			in.Stylesheet = map[string]string{tt.format: tt.href}
			out, err := Render(in, tt.format)
			if err != nil {
				t.Fatal(err)
			}
			first, rest, _ := strings.Cut(string(out), "\n")
			if first != strings.TrimSpace(xmlHeader) {
				t.Fatalf("first line %q, want the XML declaration", first)
			}
			second, _, _ := strings.Cut(rest, "\n")
			if tt.want == "" {
				if strings.Contains(string(out), "xml-stylesheet") {
					t.Fatalf("unexpected stylesheet instruction:\n%s", second)
				}
				return
			}
			if second != tt.want {
				t.Fatalf("second line\n got %s\nwant %s", second, tt.want)
			}
			walkXML(t, out)
		})
	}
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>`

func TestRenderErrors(t *testing.T) {
	good := fixtureInput(t, fixtureArticle(t))
	tests := []struct {
		name   string
		edit   func(*Input)
		format string
		is     error
	}{
		{"unknown format", func(*Input) {}, "html", ErrUnknownFormat},
		{"relative base URL", func(in *Input) { in.Site.BaseURL = "/portal" }, syndicate.FormatRSS, nil},
		{"bad slug", func(in *Input) { in.Channel.Slug = "a.b" }, syndicate.FormatAtom, nil},
		{"bad timezone", func(in *Input) { in.Site.Timezone = "Mars/Olympus" }, syndicate.FormatJSON, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			in.Site = good.Site
			in.Channel = good.Channel
			tt.edit(&in)
			_, err := Render(in, tt.format)
			if err == nil {
				t.Fatal("Render succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v is not %v", err, tt.is)
			}
			if !strings.HasPrefix(err.Error(), "feed: ") {
				t.Fatalf("error %q lacks the package context", err)
			}
		})
	}
}

// TestConcurrentRender renders from several goroutines at once: the sanitising policy and the
// time zone cache are shared (run with -race).
func TestConcurrentRender(t *testing.T) {
	in := fixtureInput(t, richArticle(t), fixtureArticle(t))
	want, err := RenderAll(in)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := RenderAll(in)
			if err == nil {
				for _, f := range syndicate.Formats {
					if !bytes.Equal(got[f], want[f]) {
						err = errors.New(f + ": concurrent render differs")
					}
				}
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestEmptyFeed renders a channel without items: every format stays valid, and JSON Feed keeps
// the items array its spec requires.
func TestEmptyFeed(t *testing.T) {
	in := fixtureInput(t)
	in.Updated = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	out, err := RenderAll(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out[syndicate.FormatJSON]), `"items":[]`) {
		t.Errorf("JSON Feed without an items array:\n%s", out[syndicate.FormatJSON])
	}
	for _, f := range []string{syndicate.FormatRSS, syndicate.FormatAtom} {
		walkXML(t, out[f])
	}
	if !strings.Contains(string(out[syndicate.FormatAtom]), "<updated>2026-01-02T11:04:05+08:00</updated>") {
		t.Errorf("Atom feed without the build time as <updated>:\n%s", out[syndicate.FormatAtom])
	}
}

// TestSiteFeed renders the site-wide pseudo-channel as build.Builder describes it.
func TestSiteFeed(t *testing.T) {
	in := fixtureInput(t, richArticle(t), fixtureArticle(t))
	in.Channel = syndicate.Channel{Slug: syndicate.SiteFeed, Title: testSite.Title, Limit: 50}
	d, err := prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	if d.title != "红网永州站" || d.link != "http://localhost:8080/" || len(d.categories) != 0 {
		t.Errorf("title %q link %q categories %q, want the site's title and home page and no categories", d.title, d.link, d.categories)
	}
	out, err := Render(in, syndicate.FormatAtom)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "<id>tag:localhost,2026:feed/all.atom</id>") {
		t.Errorf("site feed id missing:\n%s", head(out))
	}
}
