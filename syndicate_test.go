package syndicate_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

func TestTree(t *testing.T) {
	tree, err := syndicate.NewTree([]syndicate.Channel{
		{Slug: "xianshiqu", Title: "县市区"}, {Slug: "lingling", Title: "零陵", Parent: "xianshiqu"},
		{Slug: "town", Title: "镇", Parent: "lingling"}, {Slug: "zhengwu", Title: "政务"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := tree.Subtree("xianshiqu"); !slices.Equal(got, []string{"xianshiqu", "lingling", "town"}) {
		t.Errorf("Subtree = %v", got)
	}
	if got := syndicate.EventSubject("syndicate", tree.Path("town"), syndicate.EventPublished); got != "syndicate.items.xianshiqu.lingling.town.-.published" {
		t.Errorf("EventSubject = %q", got)
	}
	if got := tree.Children(""); !slices.Equal(got, []string{"xianshiqu", "zhengwu"}) {
		t.Errorf("roots = %v", got)
	}
	bad := []struct {
		name     string
		channels []syndicate.Channel
		want     string
	}{
		{"dot in slug", []syndicate.Channel{{Slug: "a.b"}}, "slug"},
		{"wildcard", []syndicate.Channel{{Slug: "a>"}}, "slug"},
		{"duplicate", []syndicate.Channel{{Slug: "a"}, {Slug: "a"}}, "twice"},
		{"missing parent", []syndicate.Channel{{Slug: "a", Parent: "b"}}, "does not exist"},
		{"cycle", []syndicate.Channel{{Slug: "a", Parent: "b"}, {Slug: "b", Parent: "a"}}, "cycle"},
		{"reserved", []syndicate.Channel{{Slug: syndicate.SiteFeed}}, "reserved"},
		{"pad token", []syndicate.Channel{{Slug: syndicate.SubjectPad}}, "slug"},
		{"too deep for event subjects", []syndicate.Channel{{Slug: "a"}, {Slug: "b", Parent: "a"}, {Slug: "c", Parent: "b"},
			{Slug: "d", Parent: "c"}, {Slug: "e", Parent: "d"}}, "at most 4"},
	}
	for _, tt := range bad {
		if _, err := syndicate.NewTree(tt.channels); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestDecodeArticles(t *testing.T) {
	fixture, err := os.ReadFile("demo/lingling-article.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		input    string
		wantOK   int
		wantErrs []string // field named by each rejected record, in order
	}{
		{"fixture object with a _note comment", string(fixture), 1, nil},
		{"array", `[{"id":"a","channels":["x"],"published_at":"2022-11-16T08:00:00+08:00"},{"id":"b","channels":["x"],"published_at":"2022-11-16T08:00:00Z"}]`, 2, nil},
		{"json lines with a broken line", "{\"id\":\"a\",\"channels\":[\"x\"]}\n{\"id\":\n{\"id\":\"c\",\"tags\":7}\n", 1, []string{"body", "tags"}},
		{"bad time", `{"id":"a","published_at":"yesterday"}`, 0, []string{"published_at"}},
		{"unknown key", `{"id":"a","headline":"x"}`, 0, []string{"headline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := syndicate.DecodeArticles(strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			ok := 0
			var fields []string
			for _, r := range recs {
				if r.Err == nil {
					ok++
					continue
				}
				e, isErr := r.Err.(*syndicate.Error)
				if !isErr {
					t.Fatalf("record %d: %T %v", r.Index, r.Err, r.Err)
				}
				fields = append(fields, e.Field)
			}
			if ok != tt.wantOK || !slices.Equal(fields, tt.wantErrs) {
				t.Errorf("ok %d fields %v; want %d %v", ok, fields, tt.wantOK, tt.wantErrs)
			}
		})
	}
	if _, err := syndicate.DecodeArticles(strings.NewReader("  ")); syndicate.ErrorCode(err) != syndicate.EINVALID {
		t.Errorf("empty input: %v", err)
	}
}

func TestValidateAndHash(t *testing.T) {
	known := func(s string) bool { return s == "lingling" }
	base := syndicate.Article{ID: "a-1", Title: "t", Channels: []string{"lingling"}, PublishedAt: time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC)}
	cases := []struct {
		name  string
		edit  func(*syndicate.Article)
		field string
	}{
		{"valid", func(*syndicate.Article) {}, ""},
		{"no id", func(a *syndicate.Article) { a.ID = "" }, "id"},
		{"slash in id", func(a *syndicate.Article) { a.ID = "a/b" }, "id"},
		{"long id", func(a *syndicate.Article) { a.ID = strings.Repeat("x", 201) }, "id"},
		{"no channel", func(a *syndicate.Article) { a.Channels = nil }, "channels"},
		{"unknown channel", func(a *syndicate.Article) { a.Channels = []string{"mars"} }, "channels"},
		{"bad utf-8", func(a *syndicate.Article) { a.Title = "\xff" }, "title"},
		{"no date", func(a *syndicate.Article) { a.PublishedAt = time.Time{} }, "published_at"},
		{"updated before published", func(a *syndicate.Article) { a.UpdatedAt = a.PublishedAt.Add(-time.Hour) }, "updated_at"},
	}
	for _, c := range cases {
		a := base
		c.edit(&a)
		err := a.Validate(known, syndicate.Limits{})
		if c.field == "" && err != nil || c.field != "" && (err == nil || err.(*syndicate.Error).Field != c.field) {
			t.Errorf("%s: err = %v, want field %q", c.name, err, c.field)
		}
	}
	a, b := base, base
	a.Normalize()
	b.Authors = []string{" 彭沛 ", "彭沛"}
	b.Normalize()
	if a.Hash() == b.Hash() {
		t.Error("different authors hash the same")
	}
	c := base
	c.PublishedAt = c.PublishedAt.In(time.FixedZone("CST", 8*3600))
	c.Normalize()
	if a.Hash() != c.Hash() {
		t.Error("the same instant in another zone hashes differently")
	}
}

func TestIDs(t *testing.T) {
	site := syndicate.Site{BaseURL: "https://feeds.example.com:8443", TagDate: "2026"}
	if got := site.ItemID("yongzhou-1"); got != "tag:feeds.example.com,2026:article/yongzhou-1" {
		t.Errorf("ItemID = %q", got)
	}
	if syndicate.NewEventID() == syndicate.NewEventID() {
		t.Error("two events share an id")
	}
	if syndicate.ETagOf([]byte("x")) != syndicate.ETagOf([]byte("x")) || syndicate.ETagOf([]byte("x")) == syndicate.ETagOf([]byte("y")) {
		t.Error("ETagOf is not a function of the bytes")
	}
}
