package web

import (
	"context"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/ingest"
)

// Store is what the server reads and writes: the admin API imports articles, reads and deletes
// them (ingest.Articles, DeleteArticle); start-up loads the rendered feed documents (Documents);
// pages show a channel's newest items (NewestItems), and archive pages are read on demand
// (build.Archives) and kept while the store's newest change stays the same (LastChange).
type Store interface {
	ingest.Articles
	build.Archives
	DeleteArticle(ctx context.Context, id string) error
	NewestItems(ctx context.Context, channels []string, limit int) ([]syndicate.Article, error)
	LastChange(ctx context.Context) (int64, error)
	Documents(ctx context.Context, fn func(syndicate.Document) error) error
}
