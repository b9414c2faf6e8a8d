// Package feeddata makes the documents Syndicate's benchmarks serve: channels whose feeds hold 50
// full-text copies of the portal's 零陵 story (demo/lingling-article.json) with distinct ids,
// rendered by the real renderer, feed.RenderAll, as a build would.
package feeddata

import (
	"context"
	"fmt"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/demo"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/store"
)

// Items is the number of items of every benchmark feed, the default channel limit.
const Items = 50

// Site is the site the documents are rendered for.
var Site = syndicate.Site{
	Title:    "红网永州站",
	BaseURL:  "http://localhost:8080",
	Language: "zh-CN",
	Timezone: "Asia/Shanghai",
	TagDate:  "2026",
}

// Modified is the Last-Modified time of every benchmark document.
var Modified = time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)

// Slug returns the slug of benchmark channel i; channel 0 is the portal's 零陵.
func Slug(i int) string {
	if i == 0 {
		return "lingling"
	}
	return fmt.Sprintf("bench-%04d", i)
}

// Tree returns a channel tree with n channels under 县市区, named by Slug.
func Tree(n int) (*syndicate.Tree, error) {
	chs := []syndicate.Channel{{Slug: "xianshiqu", Title: "县市区", Schedule: "*/10 * * * *"}}
	for i := range n {
		chs = append(chs, syndicate.Channel{
			Slug: Slug(i), Title: fmt.Sprintf("频道 %d", i), Parent: "xianshiqu", Schedule: "*/10 * * * *",
		})
	}
	t, err := syndicate.NewTree(chs)
	if err != nil {
		return nil, fmt.Errorf("feeddata: tree: %w", err)
	}
	return t, nil
}

// Articles returns channel i's 50 articles, newest first. Item ids and publication times differ
// between channels, so no two channels share bytes.
func Articles(tree *syndicate.Tree, i int) ([]syndicate.Article, error) {
	recs, err := demo.Articles()
	if err != nil {
		return nil, fmt.Errorf("feeddata: %w", err)
	}
	a := recs[0].Article
	a.Normalize()
	slug := Slug(i)
	if !tree.Has(slug) {
		return nil, fmt.Errorf("feeddata: channel %q is not in the tree", slug)
	}
	items := make([]syndicate.Article, Items)
	for j := range items {
		items[j] = a
		items[j].ID = fmt.Sprintf("%s-%04d-%02d", a.ID, i, j)
		items[j].Channels = []string{slug}
		items[j].PublishedAt = a.PublishedAt.Add(-time.Duration(i*Items+j) * time.Minute)
		items[j].UpdatedAt = items[j].PublishedAt
		items[j].ImageURL = fmt.Sprintf("/images/%04d-%02d.jpg", i, j)
	}
	return items, nil
}

// Documents renders channel i's feed of Articles(tree, i) in every format.
func Documents(tree *syndicate.Tree, i int) ([]syndicate.Document, error) {
	items, err := Articles(tree, i)
	if err != nil {
		return nil, err
	}
	slug := Slug(i)
	ch, _ := tree.Channel(slug)
	in := feed.Input{
		Site: Site, Tree: tree, Channel: ch, Items: items, Updated: items[0].UpdatedAt,
		TTL: 10 * time.Minute, Hubs: []string{"https://websub.example.org/hub"},
		Stylesheet: map[string]string{
			syndicate.FormatRSS:  Site.BaseURL + "/xsl/rss.xsl",
			syndicate.FormatAtom: Site.BaseURL + "/xsl/atom.xsl",
		},
	}
	bodies, err := feed.RenderAll(in)
	if err != nil {
		return nil, fmt.Errorf("feeddata: render %s: %w", slug, err)
	}
	docs := make([]syndicate.Document, 0, len(syndicate.Formats))
	for _, f := range syndicate.Formats {
		b := bodies[f]
		docs = append(docs, syndicate.Document{Channel: slug, Format: f, Body: b, ETag: syndicate.ETagOf(b), Modified: Modified})
	}
	return docs, nil
}

// StoreArticles saves the articles of channels 0 to n-1 in st, for what reads the store rather
// than the documents: the directory and channel pages.
func StoreArticles(ctx context.Context, st store.Store, tree *syndicate.Tree, n int) error {
	for i := range n {
		items, err := Articles(tree, i)
		if err != nil {
			return err
		}
		for _, a := range items {
			if _, err := st.UpsertArticle(ctx, a); err != nil {
				return fmt.Errorf("feeddata: store %s: %w", a.ID, err)
			}
		}
	}
	return nil
}
