package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	err := s.pool.QueryRow(ctx, `SELECT count(DISTINCT seq) FROM archive_slots
		WHERE channel = ANY ($1::text[])`, channels).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count archive of %v: %w", channels, err)
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
	items, err := s.slotArticles(ctx, `SELECT DISTINCT seq, article_id FROM archive_slots
		WHERE channel = ANY ($1::text[]) ORDER BY seq LIMIT $2 OFFSET $3`, channels, size, offset)
	if err != nil {
		return nil, fmt.Errorf("postgres: archive page %d of %v: %w", page, channels, err)
	}
	return items, nil
}

// ArchiveSlot implements store.Store.
func (s *DB) ArchiveSlot(ctx context.Context, channels []string, n int) (int64, error) {
	if n < 1 || len(channels) == 0 {
		return 0, nil
	}
	var seq int64
	err := s.pool.QueryRow(ctx, `SELECT DISTINCT seq FROM archive_slots WHERE channel = ANY ($1::text[])
		ORDER BY seq LIMIT 1 OFFSET $2`, channels, int64(n-1)).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: archive slot %d of %v: %w", n, channels, err)
	}
	return seq, nil
}

// ArchiveAfter implements store.Store.
func (s *DB) ArchiveAfter(ctx context.Context, channels []string, seq int64, except []string) ([]syndicate.Article, error) {
	if len(channels) == 0 {
		return nil, nil
	}
	if except == nil {
		except = []string{} // an empty array, not NULL: NOT (id = ANY (NULL)) is never true
	}
	items, err := s.slotArticles(ctx, `SELECT DISTINCT seq, article_id FROM archive_slots
		WHERE channel = ANY ($1::text[]) AND seq > $2 AND NOT (article_id = ANY ($3::text[]))`, channels, seq, except)
	if err != nil {
		return nil, fmt.Errorf("postgres: archive of %v after %d: %w", channels, seq, err)
	}
	return items, nil
}

// slotArticles reads the articles the slots (seq, article_id) that query selects show, in slot
// order: those still filed in one of the channels ($1) whose slot it is the latest in them, so
// that an article shows once however often it moved within them.
func (s *DB) slotArticles(ctx context.Context, query string, args ...any) ([]syndicate.Article, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+storesql.ArticleColumns+`
		FROM (`+query+`) p JOIN articles a ON a.id = p.article_id
		WHERE NOT a.deleted
			AND EXISTS (SELECT 1 FROM article_channels f WHERE f.article_id = p.article_id AND f.channel = ANY ($1::text[]))
			AND NOT EXISTS (SELECT 1 FROM archive_slots l WHERE l.article_id = p.article_id AND l.seq > p.seq AND l.channel = ANY ($1::text[]))
		ORDER BY p.seq`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []syndicate.Article
	err = storesql.ScanArticles(rows, false, func(a syndicate.Article) { out = append(out, a) })
	return out, err
}

// LastChange implements store.Store. change_counter holds the newest number handed out; a writer
// that took a number but has not committed yet is invisible here, and so are its article rows.
func (s *DB) LastChange(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.pool.QueryRow(ctx, `SELECT last_seq FROM change_counter`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("postgres: last change: %w", err)
	}
	return seq, nil
}
