package syndicate_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// now is the clock of the validation tests: the future horizon is measured from it.
var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func testLimits() syndicate.Limits {
	lim := syndicate.DefaultLimits()
	lim.Now = func() time.Time { return now }
	return lim
}

func validArticle() syndicate.Article {
	return syndicate.Article{ID: "a-1", Title: "零陵", Channels: []string{"lingling"},
		PublishedAt: time.Date(2022, 11, 16, 8, 0, 0, 0, time.UTC)}
}

// TestValidateRules runs every rule at and beyond its edge; field "" means valid.
func TestValidateRules(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	zones := []*time.Location{time.UTC, time.FixedZone("-12:00", -12*3600), time.FixedZone("+14:00", 14*3600), shanghai}
	earliest := syndicate.EarliestDate
	horizon := now.Add(24 * time.Hour)
	type tc struct {
		name  string
		edit  func(*syndicate.Article)
		field string
	}
	cases := []tc{
		{"valid", func(*syndicate.Article) {}, ""},
		{"year 0 in +08:00", func(a *syndicate.Article) { a.PublishedAt = time.Date(0, 1, 1, 0, 0, 0, 0, time.FixedZone("", 8*3600)) }, "published_at"},
		{"year 0 in UTC", func(a *syndicate.Article) { a.PublishedAt = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) }, "published_at"},
		{"year 9999 in -08:00", func(a *syndicate.Article) {
			a.PublishedAt = time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -8*3600))
		}, "published_at"},
		{"year 9999 in UTC", func(a *syndicate.Article) { a.PublishedAt = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) }, "published_at"},
		{"year 3000", func(a *syndicate.Article) { a.PublishedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, "published_at"},
		{"zone +24:00", func(a *syndicate.Article) {
			a.PublishedAt = time.Date(2022, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))
		}, "published_at"},
		{"zone -14:01", func(a *syndicate.Article) {
			a.PublishedAt = time.Date(2022, 1, 1, 0, 0, 0, 0, time.FixedZone("", -14*3600-60))
		}, "published_at"},
		{"no date", func(a *syndicate.Article) { a.PublishedAt = time.Time{} }, "published_at"},
		{"updated in year 3000", func(a *syndicate.Article) { a.UpdatedAt = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC) }, "updated_at"},
		{"updated past the horizon", func(a *syndicate.Article) { a.UpdatedAt = horizon.Add(time.Second) }, "updated_at"},
		{"updated at the horizon", func(a *syndicate.Article) { a.UpdatedAt = horizon }, ""},
		{"updated before published", func(a *syndicate.Article) { a.UpdatedAt = a.PublishedAt.Add(-time.Second) }, "updated_at"},
	}
	for _, z := range zones {
		cases = append(cases,
			tc{"earliest in " + z.String(), func(a *syndicate.Article) { a.PublishedAt = earliest.In(z) }, ""},
			tc{"before earliest in " + z.String(), func(a *syndicate.Article) { a.PublishedAt = earliest.Add(-time.Second).In(z) }, "published_at"},
			tc{"at the horizon in " + z.String(), func(a *syndicate.Article) { a.PublishedAt = horizon.In(z) }, ""},
			tc{"past the horizon in " + z.String(), func(a *syndicate.Article) { a.PublishedAt = horizon.Add(time.Second).In(z) }, "published_at"},
			tc{"updated before earliest in " + z.String(), func(a *syndicate.Article) {
				a.PublishedAt = earliest.Add(-time.Hour).In(z)
				a.UpdatedAt = earliest.In(z)
			}, "published_at"},
		)
	}
	for _, lang := range []struct{ tag, field string }{
		{"zh-CN", ""}, {"en", ""}, {"zh-Hans-CN", ""}, {"", ""}, {"<script>", "language"}, {"zh_CN", "language"},
		{"en US", "language"}, {"123", "language"}, {"en-", "language"}, {"zh-CN\x00", "language"}, {strings.Repeat("a", 36), "language"},
	} {
		cases = append(cases, tc{"language " + lang.tag, func(a *syndicate.Article) { a.Language = lang.tag }, lang.field})
	}
	for _, u := range []struct{ url, field string }{
		{"https://www.rednet.cn/a.html", ""}, {"HTTP://EXAMPLE.COM", ""}, {"https://example.com/零陵.html?x=1&y=2", ""},
		{"javascript:alert(1)", "url"}, {"/relative", "url"}, {"//example.com/a", "url"}, {"http://", "url"},
		{"http:///path", "url"}, {"ftp://example.com/a", "url"}, {"mailto:a@example.com", "url"}, {"http://[::1", "url"},
		{"http://example.com/a b", "url"}, {"http://example.com/<x>", "url"}, {`http://example.com/"x`, "url"},
		{"http://example.com/\x01", "url"}, {"http://example.com/\u00a0", "url"}, {" http://example.com/", "url"},
		{"https://example.com/" + strings.Repeat("x", 4096), "url"},
		{"http://例子.测试/路径", ""}, {"https://my_blog.example/", ""}, {"https://ab--cd.example:8443/", ""},
		{"http://[2001:db8::1]:8080/a", ""}, {"http://192.0.2.1/", ""},
		{"http://trusted.example@evil.example/", "url"}, {"https://u:p@img.example/a.svg", "url"},
		{"https://example.com:99999/", "url"}, {"https://example.com:0/", "url"},
		{"https://xn--zz.example/", "url"}, {"https://‮evil.example/", "url"},
	} {
		cases = append(cases,
			tc{"url " + u.url, func(a *syndicate.Article) { a.URL = u.url }, u.field},
			tc{"image_url " + u.url, func(a *syndicate.Article) { a.ImageURL = u.url }, strings.Replace(u.field, "url", "image_url", 1)},
		)
	}
	sizes := []struct {
		field string
		set   func(*syndicate.Article, string)
		max   int
	}{
		{"id", func(a *syndicate.Article, s string) { a.ID = s }, 200},
		{"title", func(a *syndicate.Article, s string) { a.Title = s }, 2000},
		{"summary", func(a *syndicate.Article, s string) { a.Summary = s }, 64 << 10},
		{"content_html", func(a *syndicate.Article, s string) { a.ContentHTML = s }, 2 << 20},
		{"editor", func(a *syndicate.Article, s string) { a.Editor = s }, 200},
		{"source", func(a *syndicate.Article, s string) { a.Source = s }, 200},
		{"authors", func(a *syndicate.Article, s string) { a.Authors = []string{s} }, 200},
		{"tags", func(a *syndicate.Article, s string) { a.Tags = []string{s} }, 200},
	}
	for _, sz := range sizes {
		cases = append(cases,
			tc{sz.field + " at its limit", func(a *syndicate.Article) { sz.set(a, strings.Repeat("x", sz.max)) }, ""},
			tc{sz.field + " past its limit", func(a *syndicate.Article) { sz.set(a, strings.Repeat("x", sz.max+1)) }, sz.field},
		)
	}
	list := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = strings.Repeat("x", i+1)
		}
		return out
	}
	cases = append(cases,
		tc{"50 authors", func(a *syndicate.Article) { a.Authors = list(50) }, ""},
		tc{"51 authors", func(a *syndicate.Article) { a.Authors = list(51) }, "authors"},
		tc{"100 tags", func(a *syndicate.Article) { a.Tags = list(100) }, ""},
		tc{"101 tags", func(a *syndicate.Article) { a.Tags = list(101) }, "tags"},
	)
	plain := []struct {
		field string
		set   func(*syndicate.Article, string)
	}{
		{"title", func(a *syndicate.Article, s string) { a.Title = s }},
		{"summary", func(a *syndicate.Article, s string) { a.Summary = s }},
		{"editor", func(a *syndicate.Article, s string) { a.Editor = s }},
		{"source", func(a *syndicate.Article, s string) { a.Source = s }},
		{"authors", func(a *syndicate.Article, s string) { a.Authors = []string{"ok", s} }},
		{"tags", func(a *syndicate.Article, s string) { a.Tags = []string{s} }},
	}
	for _, p := range plain {
		for _, ctl := range []string{"\x00", "\x07", "\x1b", "\x7f", "\u0085", "\ufffe", "\uffff"} {
			cases = append(cases, tc{p.field + " with " + strings.Trim(fmtRune(ctl), `"`), func(a *syndicate.Article) { p.set(a, "零"+ctl+"陵") }, p.field})
		}
		cases = append(cases,
			tc{p.field + " with tab, LF and CR", func(a *syndicate.Article) { p.set(a, "零\t陵\r\n") }, ""},
			tc{p.field + " not UTF-8", func(a *syndicate.Article) { p.set(a, "零\xff") }, p.field},
			tc{p.field + " with markup", func(a *syndicate.Article) { p.set(a, "<script>x</script>&lt;b&gt;") }, ""},
		)
	}
	cases = append(cases,
		tc{"content_html with a control character (HTML: the policy's job)", func(a *syndicate.Article) { a.ContentHTML = "<p>\x0b</p>" }, ""},
		tc{"content_html not UTF-8", func(a *syndicate.Article) { a.ContentHTML = "<p>\xc3\x28</p>" }, "content_html"},
		tc{"unknown channel", func(a *syndicate.Article) { a.Channels = []string{"mars"} }, "channels"},
	)

	known := func(s string) bool { return s == "lingling" }
	lim := testLimits()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := validArticle()
			c.edit(&a)
			err := a.Validate(known, lim)
			var field string
			if err != nil {
				e, ok := err.(*syndicate.Error)
				if !ok {
					t.Fatalf("%T %v", err, err)
				}
				field = e.Field
			}
			if field != c.field {
				t.Errorf("err = %v; want field %q", err, c.field)
			}
			a.Hash() // never panics, valid or not
		})
	}
}

func fmtRune(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestLimitsAreConfigurable checks that each limit moves its edge and that a zero Limits means
// the defaults.
func TestLimitsAreConfigurable(t *testing.T) {
	known := func(string) bool { return true }
	a := validArticle()
	a.Title = strings.Repeat("x", 11)
	a.PublishedAt = now.Add(2 * time.Hour)
	lim := testLimits()
	lim.MaxTitleBytes = 10
	if err := a.Validate(known, lim); err == nil || err.(*syndicate.Error).Field != "title" {
		t.Errorf("title of 11 bytes with a limit of 10: %v", err)
	}
	lim = testLimits()
	lim.FutureHorizon = time.Hour
	if err := a.Validate(known, lim); err == nil || err.(*syndicate.Error).Field != "published_at" {
		t.Errorf("2h ahead with a 1h horizon: %v", err)
	}
	b := validArticle()
	if err := b.Validate(known, syndicate.Limits{}); err != nil {
		t.Errorf("zero Limits: %v", err)
	}
}

func TestClampDate(t *testing.T) {
	lim := testLimits()
	tests := []struct {
		in     time.Time
		want   time.Time
		wantOK bool
	}{
		{now.Add(-time.Hour), now.Add(-time.Hour), true},
		{now.Add(24 * time.Hour), now.Add(24 * time.Hour), true},
		{now.Add(25 * time.Hour), now, true},
		{time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Time{}, false},
		{time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}, false},
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.FixedZone("", 8*3600)), time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := lim.ClampDate(tt.in)
		if !got.Equal(tt.want) || ok != tt.wantOK {
			t.Errorf("ClampDate(%v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestHashKeepsStoredHashes compares Hash with the encoding it replaced (json.Marshal of the
// Article, whose times are encoded by Time.MarshalJSON): every hash a store holds stays valid.
func TestHashKeepsStoredHashes(t *testing.T) {
	oldHash := func(a syndicate.Article) string {
		a.StoredHash, a.Sanitized = "", syndicate.Sanitized{}
		a.PublishedAt, a.UpdatedAt = a.PublishedAt.UTC(), a.UpdatedAt.UTC()
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:16])
	}
	full := syndicate.Article{ID: "x", Title: "<b>零陵</b> & \u2028", Summary: "s", ContentHTML: "<p>c</p>", URL: "https://e.com/?a=1&b=2",
		Authors: []string{"彭沛", "b"}, Editor: "e", Source: "红网", Channels: []string{"lingling", "qiyang"}, Tags: []string{"t"},
		ImageURL: "https://e.com/i.jpg", Language: "zh-CN", StoredHash: "ignored", Sanitized: syndicate.Sanitized{Policy: "p", HTML: "h"},
		PublishedAt: time.Date(2022, 11, 16, 8, 0, 0, 0, time.FixedZone("CST", 8*3600)),
		UpdatedAt:   time.Date(2022, 11, 16, 9, 0, 0, 123456789, time.UTC)}
	for name, a := range map[string]syndicate.Article{
		"every field":     full,
		"required only":   validArticle(),
		"no updated_at":   {ID: "y", Channels: []string{"c"}, PublishedAt: time.Date(2022, 1, 1, 0, 0, 0, 0, time.Local)},
		"zero everything": {},
		"invalid UTF-8":   {ID: "z", Title: "\xff"},
	} {
		if got, want := a.Hash(), oldHash(a); got != want {
			t.Errorf("%s: Hash = %s, the stored encoding gives %s", name, got, want)
		}
	}
	// And times no encoder of the old kind could write.
	for _, y := range []int{-1, 0, 10000} {
		c := validArticle()
		c.PublishedAt = time.Date(y, 1, 1, 0, 0, 0, 0, time.FixedZone("", 14*3600))
		if c.Hash() == "" {
			t.Errorf("year %d: empty hash", y)
		}
	}
}
