package syndicate_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats-server/v2/server"

	syndicate "github.com/yongzhou-news/syndicate"
)

// TestItemEventBounded: an article of any size gives an event far below NATS's default
// max_payload (1 MB), with every long text cut at a rune boundary, marked, and flagged.
func TestItemEventBounded(t *testing.T) {
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "xianshiqu", Title: "县市区"}, {Slug: "lingling", Title: "零陵", Parent: "xianshiqu"}})
	if err != nil {
		t.Fatal(err)
	}
	site := syndicate.Site{BaseURL: "https://news.example", TagDate: "2026"}
	many := func(n int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	tests := []struct {
		name      string
		a         syndicate.Article
		truncated bool
	}{
		{"ordinary", syndicate.Article{ID: "a1", Title: "零陵古城", Summary: "柳子街", Authors: []string{"蒋"}, Tags: []string{"旅游"}}, false},
		{"title of 1 MB", syndicate.Article{ID: "a2", Title: strings.Repeat("零", 350_000)}, true},
		{"long summary", syndicate.Article{ID: "a3", Title: "t", Summary: strings.Repeat("陵", 100_000)}, true},
		{"many long authors and tags", syndicate.Article{ID: "a4", Title: "t", Authors: many(5000, strings.Repeat("作", 500)),
			Tags: many(5000, strings.Repeat("标", 500))}, true},
		{"long image URL", syndicate.Article{ID: "a5", Title: "t", ImageURL: "https://img.example/" + strings.Repeat("x", 5000)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.a.Title
			ev := syndicate.NewItemEvent(site, tree, "lingling", syndicate.ItemChange{Type: syndicate.EventPublished, Article: &tt.a, Revision: 1, At: time.Now()})
			row, err := syndicate.OutboxRowFor(ev, "syndicate.items.x", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(row.Payload) > 32<<10 {
				t.Errorf("event of %d bytes, want at most 32 KiB", len(row.Payload))
			}
			var back syndicate.CloudEvent
			if err := json.Unmarshal(row.Payload, &back); err != nil {
				t.Fatal(err)
			}
			d := back.Data
			if d.Truncated != tt.truncated {
				t.Errorf("truncated = %v, want %v", d.Truncated, tt.truncated)
			}
			texts := append(append([]string{d.Title, d.Summary}, d.Authors...), d.Tags...)
			for _, s := range texts {
				if !utf8.ValidString(s) {
					t.Errorf("invalid UTF-8 after truncation: %q…", s[:20])
				}
			}
			if len(d.Title) > syndicate.MaxTitleBytes || len(d.Summary) > syndicate.MaxSummaryBytes ||
				len(d.Authors) > syndicate.MaxAuthors || len(d.Tags) > syndicate.MaxTags {
				t.Errorf("limits exceeded: title %d, summary %d, %d authors, %d tags", len(d.Title), len(d.Summary), len(d.Authors), len(d.Tags))
			}
			if tt.truncated && len(before) > syndicate.MaxTitleBytes && !strings.HasSuffix(d.Title, syndicate.TruncationMarker) {
				t.Errorf("cut title lacks the marker: …%q", d.Title[len(d.Title)-10:])
			}
			if tt.a.Title != before {
				t.Error("the article itself was changed")
			}
		})
	}
}

// TestEventSubjects: the padded layout lets one filter select a channel with its descendants, and
// one more select a type within them, as a nats-server 2.9 consumer needs.
func TestEventSubjects(t *testing.T) {
	tests := []struct {
		path    []string
		typ     string
		subject string
	}{
		{[]string{"xianshiqu"}, syndicate.EventPublished, "syndicate.items.xianshiqu.-.-.-.published"},
		{[]string{"xianshiqu", "lingling"}, syndicate.EventRemoved, "syndicate.items.xianshiqu.lingling.-.-.removed"},
		{[]string{"a", "b", "c", "d"}, syndicate.EventUpdated, "syndicate.items.a.b.c.d.updated"},
	}
	for _, tt := range tests {
		got := syndicate.EventSubject("syndicate", tt.path, tt.typ)
		if got != tt.subject {
			t.Errorf("EventSubject(%v, %s) = %s, want %s", tt.path, tt.typ, got, tt.subject)
		}
		if filter := syndicate.SubtreeFilter("syndicate", tt.path[:1]); !server.SubjectMatchesFilter(got, filter) {
			t.Errorf("%s does not match its root's subtree filter %s", got, filter)
		}
	}
	if server.SubjectMatchesFilter("syndicate.items.xianshiqu.-.-.-.published", "syndicate.items.xianshiqu.*.*.*.removed") ||
		!server.SubjectMatchesFilter("syndicate.items.xianshiqu.-.-.-.removed", "syndicate.items.*.*.*.*.removed") {
		t.Error("type filters do not select by type")
	}
}

// TestItemEventWorstCase: an article at every input limit, its text all characters JSON may
// escape, still gives an event under 32 KiB that decodes to the data it was made of. json.Marshal
// wrote each of < > & as six bytes and made such an event of 100 KB.
func TestItemEventWorstCase(t *testing.T) {
	var chain []syndicate.Channel
	parent := ""
	for _, slug := range []string{"xianshiqu", "lingling", "chengqu", "jiedao"} { // MaxChannelDepth deep
		chain = append(chain, syndicate.Channel{Slug: slug, Title: slug, Parent: parent})
		parent = slug
	}
	tree, err := syndicate.NewTree(chain)
	if err != nil {
		t.Fatal(err)
	}
	site := syndicate.Site{BaseURL: "https://news.example", TagDate: "2026"}
	lim := syndicate.DefaultLimits()
	// fill makes n bytes of whole characters of chars, padded with x.
	fill := func(n int, chars string) string {
		return strings.Repeat(chars, n/len(chars)) + strings.Repeat("x", n%len(chars))
	}
	many := func(n, size int, chars string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint(i) + fill(size-len(fmt.Sprint(i)), chars) // distinct, as Normalize keeps them
		}
		return out
	}
	for _, tt := range []struct {
		name, chars string
		kept        bool // url fits MaxArticleURL
	}{
		{"HTML characters", "<&>", false},
		{"HTML characters, url at the event limit", "<&>", true},
		{"quotes and backslashes", `"\`, false},
		{"tabs and line breaks", "\t\n\r", false},
		{"line separators", "\u2028\u2029", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := "https://news.example/a?" + fill(lim.MaxURLBytes, "&")[len("https://news.example/a?"):]
			if tt.kept {
				url = url[:syndicate.MaxArticleURL]
			}
			a := syndicate.Article{
				ID:          fill(lim.MaxIDBytes, "a1"),
				Title:       fill(lim.MaxTitleBytes, tt.chars),
				Summary:     fill(lim.MaxSummaryBytes, tt.chars),
				URL:         url,
				Authors:     many(lim.MaxAuthors, lim.MaxAuthorBytes, tt.chars),
				Tags:        many(lim.MaxTags, lim.MaxTagBytes, tt.chars),
				ImageURL:    "https://img.example/?" + fill(syndicate.MaxImageURL-len("https://img.example/?"), "&"),
				PublishedAt: time.Date(2022, 11, 16, 0, 0, 0, 0, time.UTC),
				UpdatedAt:   time.Date(2022, 11, 17, 0, 0, 0, 0, time.UTC),
			}
			ev := syndicate.NewItemEvent(site, tree, "jiedao", syndicate.ItemChange{Type: syndicate.EventUpdated, Article: &a,
				Revision: 1 << 40, At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Reason: syndicate.ReasonMoved})
			row, err := syndicate.OutboxRowFor(ev, "syndicate.items.x", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d bytes", len(row.Payload))
			if len(row.Payload) > 32<<10 {
				t.Errorf("event of %d bytes, want at most 32 KiB", len(row.Payload))
			}
			if row.Payload[len(row.Payload)-1] != '}' {
				t.Errorf("payload ends with %q, want the closing brace", row.Payload[len(row.Payload)-1])
			}
			var back syndicate.CloudEvent
			if err := json.Unmarshal(row.Payload, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, ev) {
				t.Errorf("payload decodes to\n%+v\nwant\n%+v", back.Data, ev.Data)
			}
			wantURL := "https://news.example/articles/" + a.ID
			if tt.kept {
				wantURL = url
			}
			if back.Data.URL != wantURL || !back.Data.Truncated {
				t.Errorf("url %.80q… (truncated %v), want %.80q…", back.Data.URL, back.Data.Truncated, wantURL)
			}
			if back.Data.ImageURL != a.ImageURL {
				t.Error("an image URL of MaxImageURL bytes was dropped")
			}
		})
	}
}

// TestShorten: a cut never splits a character, and the marker is inside the bound.
func TestShorten(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"零陵", 6, "零陵"},
		{"零陵古城", 9, "零陵…"},
		{"零陵古城", 8, "零…"},
		{"abcdef", 5, "ab…"},
		{"abcdef", 2, "…"},
		{"ab\xffcdef", 5, "ab…"},
		{"\xff\xfe\xfdabc", 5, "…"},
	} {
		got := syndicate.Shorten(tt.s, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
