package feed

import (
	"fmt"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// benchInput is a full-text feed of 50 copies of the fixture story with distinct ids, the
// size of a busy channel's document.
func benchInput(b *testing.B) Input {
	a := fixtureArticle(b)
	items := make([]syndicate.Article, 50)
	for i := range items {
		items[i] = a
		items[i].ID = fmt.Sprintf("%s-%02d", a.ID, i)
		items[i].PublishedAt = a.PublishedAt.Add(-time.Duration(i) * time.Hour)
		items[i].UpdatedAt = items[i].PublishedAt
		items[i].ImageURL = fmt.Sprintf("/images/%02d.jpg", i)
	}
	return fixtureInput(b, items...)
}

// BenchmarkRender is the whole cost of one format: hygiene (cleaning, sanitising, URL
// resolution) plus encoding.
func BenchmarkRender(b *testing.B) {
	in := benchInput(b)
	for _, f := range syndicate.Formats {
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Render(in, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRenderAll is what a build pays: hygiene once, three encodings.
func BenchmarkRenderAll(b *testing.B) {
	in := benchInput(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderAll(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode is encoding alone, on an input already cleaned: the difference from
// BenchmarkRender is the price of hygiene.
func BenchmarkEncode(b *testing.B) {
	d, err := prepare(benchInput(b))
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range syndicate.Formats {
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encoders[f](d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHygiene is cleaning alone.
func BenchmarkHygiene(b *testing.B) {
	in := benchInput(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := prepare(in); err != nil {
			b.Fatal(err)
		}
	}
}
