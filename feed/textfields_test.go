package feed

import (
	"slices"
	"strings"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
)

// hygieneCases are what editors and upstream portals put in plain-text fields, and the text a
// reader must show for it.
//
// rssTitle is what feedparser shows of an RSS <title> when it differs. RSS 2.0 does not say
// whether a title is text or HTML, and feedparser takes one holding "&lt;" as escaped HTML: the
// text "&lt;script&gt;" then shows as "<script>" (as text: there is no element). No encoding
// satisfies both kinds of reader; ours is right for the text readers and inert for the others.
var hygieneCases = []struct{ name, typed, want, rssTitle string }{
	{"escaped script", "&lt;script&gt;alert(1)&lt;/script&gt;", "alert(1)", ""},
	{"raw script", "<script>alert(1)</script>", "alert(1)", ""},
	{"escaped twice", "&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;", "&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"},
	{"escaped img handler", "&lt;img src=x onerror=alert(1)&gt;零陵", "零陵", ""},
	{"nested tags", "<scr<script>ipt>alert(1)", "alert(1)", ""},
	{"markup and entities", "<b>汇聚</b>“红”&amp;AT&amp;T 1<2", "汇聚 “红”&AT&T 1<2", ""},
	{"quotes", "&quot;零陵&quot; &#39;东安&#39;", `"零陵" '东安'`, ""},
}

// TestTextFieldsAsReadersShowThem puts each case in every plain-text field (title, summary,
// author, tag, channel name), renders all three formats and reads them back with gofeed and
// feedparser: no field holds live markup, and each shows what the editor meant.
func TestTextFieldsAsReadersShowThem(t *testing.T) {
	for _, tc := range hygieneCases {
		t.Run(tc.name, func(t *testing.T) {
			a := fixtureArticle(t)
			a.Title = tc.typed + " 标题"
			a.Summary = tc.typed + " 摘要"
			a.Authors = []string{tc.typed + " 作者"}
			a.Tags = []string{tc.typed + " 标签"}
			in := fixtureInput(t, a)
			in.Channel.Title = tc.typed + " 频道"
			tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "zhongyao-xinwen", Title: "重要新闻"},
				{Slug: "xianshiqu", Title: "县市区"}, {Slug: "lingling", Title: in.Channel.Title, Parent: "xianshiqu"}})
			if err != nil {
				t.Fatal(err)
			}
			in.Tree = tree
			for format, views := range readAll(t, in) {
				for _, v := range views {
					who := format + " via " + v.Reader
					text := tc.want
					if format == syndicate.FormatRSS && v.Reader == "feedparser" && tc.rssTitle != "" {
						text = tc.rssTitle
					}
					want := func(suffix string) string { return text + " " + suffix }
					if len(v.Markup) > 0 {
						t.Errorf("%s: live markup in the feed: %q", who, v.Markup)
					}
					if v.Title != want("频道")+" - 红网永州站" {
						t.Errorf("%s: feed title %q, want %q", who, v.Title, want("频道")+" - 红网永州站")
					}
					if format != syndicate.FormatJSON && !slices.Contains(v.Tags, tc.want+" 频道") {
						t.Errorf("%s: feed categories %q lack the channel name %q", who, v.Tags, tc.want+" 频道")
					}
					if len(v.Items) != 1 {
						t.Fatalf("%s: %d items", who, len(v.Items))
					}
					it := v.Items[0]
					if len(it.Markup) > 0 {
						t.Errorf("%s: live markup in the item: %q", who, it.Markup)
					}
					if it.Title != want("标题") || it.Summary != tc.want+" 摘要" {
						t.Errorf("%s: title %q summary %q, want %q %q", who, it.Title, it.Summary, want("标题"), tc.want+" 摘要")
					}
					// gofeed reads a name such as "alert(1) 作者" in dc:creator and JSON Feed
					// as an "e-mail (name)" pair; that is its heuristic, not our output.
					gofeedPair := v.Reader == "gofeed" && format != syndicate.FormatAtom && strings.Contains(text, "(")
					if !gofeedPair && !slices.Equal(it.Authors, []string{tc.want + " 作者"}) {
						t.Errorf("%s: authors %q, want %q", who, it.Authors, tc.want+" 作者")
					}
					for _, tag := range []string{tc.want + " 标签", tc.want + " 频道"} {
						if !slices.Contains(it.Tags, tag) {
							t.Errorf("%s: item categories %q lack %q", who, it.Tags, tag)
						}
					}
				}
			}
		})
	}
}

// TestAuthorsAsReadersShowThem: the 零陵 story shows exactly its two authors in every format and
// reader, without the site's name merged in. RSS carries them in one dc:creator (gofeed and
// feedparser keep only the last of several), so there they read as one "彭沛, 黎俊".
func TestAuthorsAsReadersShowThem(t *testing.T) {
	for format, views := range readAll(t, fixtureInput(t, fixtureArticle(t))) {
		for _, v := range views {
			who := format + " via " + v.Reader
			got := v.Items[0].Authors
			if format == syndicate.FormatRSS {
				if len(got) != 1 || got[0] != "彭沛, 黎俊" {
					t.Errorf("%s: authors %q, want one dc:creator \"彭沛, 黎俊\"", who, got)
				}
				continue
			}
			if !slices.Equal(got, []string{"彭沛", "黎俊"}) {
				t.Errorf("%s: authors %q, want 彭沛 and 黎俊", who, got)
			}
			if format == syndicate.FormatJSON && (len(v.Authors) > 0 || slices.Contains(v.RawJSONKeys, "authors") || slices.Contains(v.RawJSONKeys, "author")) {
				t.Errorf("%s: a top-level author (%q, members %q) that readers merge into every item", who, v.Authors, v.RawJSONKeys)
			}
		}
	}
}

// TestJSONFeedContentFallback: every JSON Feed item carries content_html or content_text
// (JSON Feed 1.1 requires one), falling back to the summary and then to the title.
func TestJSONFeedContentFallback(t *testing.T) {
	tests := []struct {
		name                   string
		content, summary, text string
		wantHTML               bool
	}{
		{"no content", "", "有序开放保供商店。", "有序开放保供商店。", false},
		{"content sanitising to nothing", "<script>alert(1)</script><style>p{}</style>", "有序开放保供商店。", "有序开放保供商店。", false},
		{"content of empty markup", "<p><script>alert(1)</script></p><div> </div>", "", "零陵城区有序恢复", false},
		{"summary only", "", "摘要 &amp; 说明", "摘要 & 说明", false},
		{"title only", "", "", "零陵城区有序恢复", false},
		{"content kept", "<p>正文</p>", "摘要", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := fixtureArticle(t)
			a.Title, a.ContentHTML, a.Summary = "零陵城区有序恢复", tt.content, tt.summary
			for _, v := range readAll(t, fixtureInput(t, a))[syndicate.FormatJSON] {
				if v.Reader == "gofeed" {
					continue // gofeed's model merges content_html and content_text; the raw members are what count
				}
				it := v.Items[0]
				if it.Content == "" && it.ContentText == "" {
					t.Fatalf("%s: item has neither content_html nor content_text", v.Reader)
				}
				if (it.Content != "") != tt.wantHTML {
					t.Errorf("%s: content_html %q, want one: %v", v.Reader, it.Content, tt.wantHTML)
				}
				if !tt.wantHTML && it.ContentText != tt.text {
					t.Errorf("%s: content_text %q, want %q", v.Reader, it.ContentText, tt.text)
				}
				if tt.wantHTML && it.ContentText != "" {
					t.Errorf("%s: content_text %q beside content_html", v.Reader, it.ContentText)
				}
			}
		})
	}
}

// TestEveryJSONItemHasContent renders items with every combination of missing fields and checks
// the raw documents: no item without content_html or content_text.
func TestEveryJSONItemHasContent(t *testing.T) {
	var items []syndicate.Article
	for i, c := range []struct{ title, summary, content string }{
		{"", "", ""}, {"t", "", ""}, {"", "s", ""}, {"", "", "<p>c</p>"}, {"", "", "<iframe src=x></iframe>"}, {"<br>", "<b></b>", "<p> </p>"},
	} {
		a := fixtureArticle(t)
		a.ID = a.ID + strings.Repeat("x", i+1)
		a.Title, a.Summary, a.ContentHTML = c.title, c.summary, c.content
		items = append(items, a)
	}
	for _, v := range readAll(t, fixtureInput(t, items...))[syndicate.FormatJSON] {
		if v.Reader == "gofeed" {
			continue
		}
		for i, it := range v.Items {
			if strings.TrimSpace(it.Content) == "" && strings.TrimSpace(it.ContentText) == "" {
				t.Errorf("%s: item %d has neither content_html nor content_text", v.Reader, i)
			}
		}
	}
}

// A bidirectional override an editor leaves open is closed at the end of its field, as every
// reader shows it: the channel name's own override does not reverse the site name after it in
// the feed title, nor a title the date beside it.
func TestBidiOverridesClosedAsReadersShowThem(t *testing.T) {
	a := fixtureArticle(t)
	a.Title, a.Authors = "\u202eevil", []string{"\u2067作者"}
	in := fixtureInput(t, a)
	for format, views := range readAll(t, in) {
		for _, v := range views {
			who := format + " via " + v.Reader
			if len(v.Items) != 1 {
				t.Fatalf("%s: %d items", who, len(v.Items))
			}
			it := v.Items[0]
			if it.Title != "\u202eevil\u202c" {
				t.Errorf("%s: title %+q, want the override closed: %+q", who, it.Title, "\u202eevil\u202c")
			}
			if len(it.Authors) != 1 || it.Authors[0] != "\u2067作者\u2069" {
				t.Errorf("%s: authors %+q, want the isolate closed", who, it.Authors)
			}
		}
	}
}
