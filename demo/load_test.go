package demo_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/demo"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// The demo fills an empty store once, and never a store that holds anything or whose tree lacks
// its channels.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	full, err := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵"}, {Slug: "zhongyao-xinwen", Title: "重要新闻"}})
	if err != nil {
		t.Fatal(err)
	}
	bare, err := syndicate.NewTree([]syndicate.Channel{{Slug: "sports", Title: "体育"}})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := demo.Articles()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		tree  *syndicate.Tree
		loads int // how many Load calls in a row
		want  int64
	}{
		{"empty store", full, 1, int64(len(recs))},
		{"loaded twice", full, 2, int64(len(recs))},
		{"tree lacks the channels", bare, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "syndicate.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for range tt.loads {
				if err := demo.Load(ctx, st, tt.tree, slog.New(slog.DiscardHandler)); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := st.ArticleCount(ctx); err != nil || n != tt.want {
				t.Errorf("articles = %d, %v; want %d", n, err, tt.want)
			}
			if tt.want > 0 {
				if _, err := st.Article(ctx, recs[0].Article.ID); err != nil {
					t.Errorf("demo article: %v", err)
				}
			}
		})
	}
}
