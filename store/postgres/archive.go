package postgres

import (
	"context"
	"fmt"
	"math"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// ArchiveCount implements store.Store. Deleting an article unfiles it, so article_channels holds
// undeleted articles only.
func (s *DB) ArchiveCount(ctx context.Context, channels []string) (int, error) {
	if len(channels) == 0 {
		return 0, nil
	}
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(DISTINCT article_id) FROM article_channels
		WHERE channel = ANY ($1::text[])`, channels).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: count archive of %v: %w", channels, err)
	}
	return n, nil
}

// ArchivePage implements store.Store.
func (s *DB) ArchivePage(ctx context.Context, channels []string, page, size int) ([]syndicate.Article, error) {
	if page < 1 || size < 1 {
		return nil, syndicate.Errorf(syndicate.EINVALID, "archive page %d of size %d: both must be at least 1", page, size)
	}
	if len(channels) == 0 || page-1 > math.MaxInt/size {
		return nil, nil
	}
	// The inner query pages through the ids alone, from the (channel, first_seq) index; only the
	// page's own rows are then read from articles. An article filed in two of the channels has
	// the same first_seq in both rows, so DISTINCT keeps it once.
	rows, err := s.pool.Query(ctx, `SELECT a.id, a.hash, a.data, a.sanitized_hash, a.sanitized_policy, a.sanitized_html FROM (
			SELECT DISTINCT article_id, first_seq FROM article_channels
			WHERE channel = ANY ($1::text[])
			ORDER BY first_seq LIMIT $2 OFFSET $3
		) p JOIN articles a ON a.id = p.article_id
		ORDER BY p.first_seq`, channels, size, int64(page-1)*int64(size))
	if err != nil {
		return nil, fmt.Errorf("postgres: archive page %d of %v: %w", page, channels, err)
	}
	defer rows.Close()
	out := make([]syndicate.Article, 0, min(size, 1000))
	for rows.Next() {
		var id, hash string
		var data []byte
		var safeHash, safePolicy string
		var safeHTML *string
		if err := rows.Scan(&id, &hash, &data, &safeHash, &safePolicy, &safeHTML); err != nil {
			return nil, fmt.Errorf("postgres: scan archive item: %w", err)
		}
		a, err := decodeArticle(id, data)
		if err != nil {
			return nil, err
		}
		a.Sanitized = store.SanitizedFor(&a, hash, safeHash, safePolicy, safeHTML)
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: archive page %d of %v: %w", page, channels, err)
	}
	return out, nil
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
