package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// ArchiveCount implements store.Store: the subtree's archive slots, those of deleted and moved
// articles included, so that the count never goes down and complete pages stay complete.
func (s *DB) ArchiveCount(ctx context.Context, channels []string) (int, error) {
	if len(channels) == 0 {
		return 0, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(DISTINCT seq) FROM archive_slots
		WHERE channel IN (`+placeholders(len(channels))+`)`, slugArgs(channels)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count archive of %v: %w", channels, err)
	}
	return n, nil
}

// ArchivePage implements store.Store.
func (s *DB) ArchivePage(ctx context.Context, channels []string, page, size int) ([]syndicate.Article, error) {
	offset, ok, err := storesql.PageOffset(page, size)
	if err != nil || !ok || len(channels) == 0 {
		return nil, err
	}
	// The slots alone are paged through, from the (channel, seq) key; an article filed in two of
	// the channels by one change has one slot, which DISTINCT keeps once.
	args := append(slugArgs(channels), size, offset)
	items, err := s.slotArticles(ctx, channels, `SELECT DISTINCT seq, article_id FROM archive_slots
		WHERE channel IN (`+placeholders(len(channels))+`) ORDER BY seq LIMIT ? OFFSET ?`, args, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: archive page %d of %v: %w", page, channels, err)
	}
	return items, nil
}

// ArchiveSlot implements store.Store.
func (s *DB) ArchiveSlot(ctx context.Context, channels []string, n int) (int64, error) {
	if n < 1 || len(channels) == 0 {
		return 0, nil
	}
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT DISTINCT seq FROM archive_slots WHERE channel IN (`+placeholders(len(channels))+`)
		ORDER BY seq LIMIT 1 OFFSET ?`, append(slugArgs(channels), n-1)...).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: archive slot %d of %v: %w", n, channels, err)
	}
	return seq, nil
}

// ArchiveAfter implements store.Store.
func (s *DB) ArchiveAfter(ctx context.Context, channels []string, seq int64, except []string) ([]syndicate.Article, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	items, err := s.slotArticles(ctx, channels, `SELECT DISTINCT seq, article_id FROM archive_slots
		WHERE channel IN (`+placeholders(len(channels))+`) AND seq > ?`, append(slugArgs(channels), seq), except)
	if err != nil {
		return nil, fmt.Errorf("sqlite: archive of %v after %d: %w", channels, seq, err)
	}
	return items, nil
}

// slotArticles reads the articles the slots (seq, article_id) that query selects show, in slot
// order: those still filed in one of the channels whose slot it is the latest in them, so that
// an article shows once however often it moved within them; none whose id is in except.
func (s *DB) slotArticles(ctx context.Context, channels []string, query string, args []any, except []string) ([]syndicate.Article, error) {
	in := `IN (` + placeholders(len(channels)) + `)`
	args = append(args, slugArgs(channels)...)
	args = append(args, slugArgs(channels)...)
	notIn := ""
	if len(except) > 0 {
		notIn = `AND a.id NOT IN (` + placeholders(len(except)) + `)`
		args = append(args, slugArgs(except)...)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+storesql.ArticleColumns+`
		FROM (`+query+`) p JOIN articles a ON a.id = p.article_id
		WHERE a.deleted = 0
			AND EXISTS (SELECT 1 FROM article_channels f WHERE f.article_id = p.article_id AND f.channel `+in+`)
			AND NOT EXISTS (SELECT 1 FROM archive_slots l WHERE l.article_id = p.article_id AND l.seq > p.seq AND l.channel `+in+`)
			`+notIn+`
		ORDER BY p.seq`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []syndicate.Article
	err = storesql.ScanArticles(rows, true, func(a syndicate.Article) { out = append(out, a) })
	return out, err
}

const sqlLastChange = `SELECT coalesce(max(seq), 0) FROM articles`

// LastChange implements store.Store. Every change takes max(seq)+1 (nextSeq), deletions
// included, so the maximum is the newest number handed out; the unique index answers it.
func (s *DB) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, sqlLastChange).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: last change: %w", err)
	}
	return seq, nil
}

// slugArgs converts channel slugs (or article ids) to query arguments.
func slugArgs(list []string) []any {
	args := make([]any, len(list), len(list)+2)
	for i, s := range list {
		args[i] = s
	}
	return args
}
