package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"
	syndicate "github.com/yongzhou-news/syndicate"
)

// wantItem is what a reader must get back for one article, written out independently of the
// renderer's own model.
type wantItem struct {
	id, link, title, summary, content string
	authors, categories               []string
	published, updated                time.Time
	image, imageType                  string
}

func wantItems(t *testing.T) (Input, []wantItem) {
	rich, fixture := richArticle(t), fixtureArticle(t)
	in := fixtureInput(t, rich, fixture)
	return in, []wantItem{
		{
			id:      "tag:localhost,2026:article/yongzhou-20221117-lingling-huifu",
			link:    "http://localhost:8080/news/2022/11/17/huifu.html",
			title:   rich.Title,
			summary: rich.Summary,
			// Relative URLs resolved against the article's own URL.
			content:    `<p>有序恢复。</p><p><img src="http://localhost:8080/news/2022/11/17/images/street.jpg" alt="街景"></p><p><a href="http://localhost:8080/channels/lingling">更多零陵新闻</a></p>`,
			authors:    []string{"彭沛", "黎俊"},
			categories: []string{"县市区", "零陵", "疫情防控", "复工复产"},
			published:  rich.PublishedAt,
			updated:    rich.UpdatedAt,
			image:      "http://localhost:8080/news/2022/11/17/images/lead.png",
			imageType:  "image/png",
		},
		{
			id:         "tag:localhost,2026:article/yongzhou-20221116-lingling-kangyi",
			link:       "http://localhost:8080/articles/yongzhou-20221116-lingling-kangyi",
			title:      "汇聚“红”力量 守护健康“绿”——永州市直党员干部助力零陵抗疫工作纪实",
			summary:    "关键时刻冲得上,危难关头豁得出。",
			content:    fixture.ContentHTML, // already clean: sanitising must not change it
			authors:    []string{"彭沛", "黎俊"},
			categories: []string{"县市区", "零陵", "重要新闻"},
			published:  time.Date(2022, 11, 16, 0, 0, 0, 0, time.UTC),
			updated:    time.Date(2022, 11, 16, 0, 0, 0, 0, time.UTC),
		},
	}
}

func TestRoundTrip(t *testing.T) {
	in, want := wantItems(t)
	out, err := RenderAll(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range syndicate.Formats {
		t.Run(f, func(t *testing.T) {
			p := gofeed.NewParser()
			p.KeepOriginalFeed = true
			got, err := p.Parse(bytes.NewReader(out[f]))
			if err != nil {
				t.Fatalf("gofeed: %v", err)
			}
			checkFeed(t, f, got, in)
			if len(got.Items) != len(want) {
				t.Fatalf("%d items, want %d", len(got.Items), len(want))
			}
			for i, w := range want {
				checkItem(t, f, got.Items[i], w)
			}
			switch orig := got.OriginalFeed().(type) {
			case *rss.Feed:
				checkRSSOriginal(t, orig, in)
			case *atom.Feed:
				checkAtomOriginal(t, orig, in)
			default:
				checkJSONRaw(t, out[f], in)
			}
		})
	}
}

func checkFeed(t *testing.T, format string, got *gofeed.Feed, in Input) {
	t.Helper()
	eq(t, "feed title", got.Title, "零陵 - 红网永州站")
	eq(t, "feed link", got.Link, "http://localhost:8080/channels/lingling")
	eq(t, "feed self link", got.FeedLink, "http://localhost:8080/feeds/lingling."+format)
	eq(t, "feed language", got.Language, "zh-CN")
	if got.UpdatedParsed == nil || !got.UpdatedParsed.Equal(in.Updated) {
		t.Errorf("feed updated %v, want %v", got.UpdatedParsed, in.Updated)
	}
	if got.Image == nil || got.Image.URL != "http://localhost:8080/logo.png" {
		t.Errorf("feed image %+v, want the site logo", got.Image)
	}
	if format != syndicate.FormatJSON { // JSON Feed has neither
		eq(t, "feed generator", got.Generator, "Syndicate")
		eqList(t, "feed categories", got.Categories, []string{"县市区", "零陵"})
	}
	switch format {
	case syndicate.FormatAtom: // RFC 4287 §4.1.1 wants a feed author when an entry may lack one
		eqList(t, "feed authors", names(got.Authors), []string{"红网永州站"})
	default: // RSS has none without an e-mail; JSON Feed readers would merge it into every item
		eqList(t, "feed authors", names(got.Authors), nil)
	}
}

func checkItem(t *testing.T, format string, got *gofeed.Item, w wantItem) {
	t.Helper()
	eq(t, "id", got.GUID, w.id)
	eq(t, "link", got.Link, w.link)
	eq(t, "title", got.Title, w.title)
	summary := got.Description
	if format != syndicate.FormatJSON {
		summary = html.UnescapeString(summary) // RSS description and Atom type="html" hold escaped text
	}
	eq(t, "summary", summary, w.summary)
	eq(t, "content", got.Content, w.content)
	if format == syndicate.FormatRSS {
		// One dc:creator holds every author (see rssItem): gofeed shows it as one name.
		eqList(t, "authors", names(got.Authors), []string{strings.Join(w.authors, ", ")})
	} else {
		eqList(t, "authors", names(got.Authors), w.authors)
	}
	eqList(t, "categories", got.Categories, w.categories)
	if got.PublishedParsed == nil || !got.PublishedParsed.Equal(w.published) {
		t.Errorf("%s: published %v, want %v", w.id, got.PublishedParsed, w.published)
	}
	if got.UpdatedParsed == nil || !got.UpdatedParsed.Equal(w.updated) {
		t.Errorf("%s: updated %v, want %v", w.id, got.UpdatedParsed, w.updated)
	}
	var encs []string
	for _, e := range got.Enclosures {
		encs = append(encs, e.URL+" "+e.Type)
	}
	var wantEncs []string
	if w.image != "" {
		wantEncs = []string{w.image + " " + w.imageType}
	}
	eqList(t, "enclosures", encs, wantEncs)
	// gofeed's Atom translator never sets Item.Image; the enclosure above carries it there.
	if w.image != "" && format != syndicate.FormatAtom && (got.Image == nil || got.Image.URL != w.image) {
		t.Errorf("%s: image %+v, want %s", w.id, got.Image, w.image)
	}
}

// checkRSSOriginal checks what gofeed keeps only in its RSS model.
func checkRSSOriginal(t *testing.T, f *rss.Feed, in Input) {
	t.Helper()
	eq(t, "ttl", f.TTL, "10")
	var hubs []string
	for _, l := range f.Extensions["atom"]["link"] {
		if l.Attrs["rel"] == "hub" {
			hubs = append(hubs, l.Attrs["href"])
		}
	}
	eqList(t, "hubs", hubs, in.Hubs)
	for _, it := range f.Items {
		if it.GUID == nil || it.GUID.IsPermalink != "false" {
			t.Errorf("guid %+v: a tag: URI must say isPermaLink=\"false\"", it.GUID)
		}
		if it.Author != "" {
			t.Errorf("<author>%s</author>: RSS 2.0 reserves it for an e-mail address", it.Author)
		}
		eqList(t, "dc:creator", it.DublinCoreExt.Creator, []string{"彭沛, 黎俊"})
		eqList(t, "dc:contributor", it.DublinCoreExt.Contributor, []string{"陈小婷"})
		if it.Enclosure != nil && it.Enclosure.Length != "0" {
			t.Errorf("enclosure length %q, want 0 (unknown)", it.Enclosure.Length)
		}
	}
}

// checkAtomOriginal checks what gofeed keeps only in its Atom model.
func checkAtomOriginal(t *testing.T, f *atom.Feed, in Input) {
	t.Helper()
	eq(t, "feed id", f.ID, "tag:localhost,2026:feed/lingling.atom")
	eq(t, "icon", f.Icon, "http://localhost:8080/favicon.ico")
	var hubs []string
	for _, l := range f.Links {
		if l.Rel == "hub" {
			hubs = append(hubs, l.Href)
		}
	}
	eqList(t, "hubs", hubs, in.Hubs)
	for _, e := range f.Entries {
		eqList(t, "contributors", names(atomPeople(e.Contributors)), []string{"陈小婷"})
		if e.Content == nil || e.Content.Type != "html" {
			t.Errorf("content %+v, want type html", e.Content)
		}
	}
}

// checkJSONRaw checks the JSON Feed members gofeed does not expose.
func checkJSONRaw(t *testing.T, body []byte, in Input) {
	t.Helper()
	var f struct {
		Version string `json:"version"`
		Hubs    []struct{ Type, URL string }
		Items   []struct {
			ID          string `json:"id"`
			Attachments []struct {
				URL  string `json:"url"`
				Mime string `json:"mime_type"`
			} `json:"attachments"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &f); err != nil {
		t.Fatal(err)
	}
	eq(t, "version", f.Version, "https://jsonfeed.org/version/1.1")
	if len(f.Hubs) != len(in.Hubs) || f.Hubs[0].Type != "WebSub" || f.Hubs[0].URL != in.Hubs[0] {
		t.Errorf("hubs %+v, want WebSub %v", f.Hubs, in.Hubs)
	}
}

func atomPeople(ps []*atom.Person) []*gofeed.Person {
	var out []*gofeed.Person
	for _, p := range ps {
		out = append(out, &gofeed.Person{Name: p.Name})
	}
	return out
}

func names(ps []*gofeed.Person) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func eq(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func eqList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// walkXML reads every token of an XML document with encoding/xml, which rejects characters
// outside XML 1.0's Char production, invalid UTF-8 and malformed markup.
func walkXML(t testing.TB, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
	}
}
