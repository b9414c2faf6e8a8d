package build

import (
	"context"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// Store is what a Builder reads and commits: whether anything changed since a channel's last
// build (LastChange, ChannelMarks, BuildState, Changes), the feed's items and the archive pages
// it links (NewestItems, ArchiveCount, ArchiveSlot, ArchiveAfter), and the build itself.
type Store interface {
	LastChange(ctx context.Context) (int64, error)
	ChannelMarks(ctx context.Context) (map[string]store.Mark, error)
	BuildState(ctx context.Context, channel string) (store.BuildState, error)
	Changes(ctx context.Context, channel string, since, upTo int64) ([]store.Change, error)
	NewestItems(ctx context.Context, channels []string, limit int) ([]syndicate.Article, error)
	ArchiveCount(ctx context.Context, channels []string) (int, error)
	ArchiveSlot(ctx context.Context, channels []string, n int) (int64, error)
	ArchiveAfter(ctx context.Context, channels []string, seq int64, except []string) ([]syndicate.Article, error)
	CommitBuild(ctx context.Context, b store.Build) error
}

// Archives is what Archive reads: how many complete pages a feed's archive has, and one of them.
type Archives interface {
	ArchiveCount(ctx context.Context, channels []string) (int, error)
	ArchivePage(ctx context.Context, channels []string, page, size int) ([]syndicate.Article, error)
}
