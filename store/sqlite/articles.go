package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// UpsertArticle implements store.Store: a batch of one.
func (s *DB) UpsertArticle(ctx context.Context, a syndicate.Article) (store.UpsertOutcome, error) {
	return storesql.UpsertOne(ctx, a, s.UpsertArticles)
}

// markChannels records change seq on every channel the article is filed in.
func markChannels(ctx context.Context, tx *sql.Tx, id string, seq int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO channel_marks (channel, seq)
		SELECT channel, ? FROM article_channels WHERE article_id = ? AND true
		ON CONFLICT (channel) DO UPDATE SET seq = excluded.seq`, seq, id); err != nil {
		return fmt.Errorf("sqlite: mark channels of %q: %w", id, err)
	}
	return nil
}

// filings returns the channels the article is filed in.
func filings(ctx context.Context, tx *sql.Tx, id string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT channel FROM article_channels WHERE article_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("sqlite: channels of %q: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("sqlite: channels of %q: %w", id, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: channels of %q: %w", id, err)
	}
	return out, nil
}

// markFiled records seq as the newest filing change of the channels, which markChannels marked.
func markFiled(ctx context.Context, tx *sql.Tx, seq int64, channels []string) error {
	for _, c := range channels {
		if _, err := tx.ExecContext(ctx, `UPDATE channel_marks SET filed = ? WHERE channel = ?`, seq, c); err != nil {
			return fmt.Errorf("sqlite: mark filings of %q: %w", c, err)
		}
	}
	return nil
}

// ChannelMarks implements store.Store.
func (s *DB) ChannelMarks(ctx context.Context) (map[string]store.Mark, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT channel, seq, filed FROM channel_marks`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: channel marks: %w", err)
	}
	defer rows.Close()
	out, err := storesql.ScanMarks(rows)
	if err != nil {
		return nil, fmt.Errorf("sqlite: channel marks: %w", err)
	}
	return out, nil
}

// nextSeq allocates the next change sequence number. SQLite has one writer at a time, so numbers
// become visible in increasing order, which Changes relies on.
func nextSeq(ctx context.Context, tx *sql.Tx) (int64, error) {
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) + 1 FROM articles`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlite: next change number: %w", err)
	}
	return seq, nil
}

// DeleteArticle implements store.Store.
func (s *DB) DeleteArticle(ctx context.Context, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		seq, err := nextSeq(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE articles SET deleted = 1, seq = ?, revision = revision + 1, changed_at = ? WHERE id = ? AND deleted = 0`,
			seq, micros(s.Now()), id)
		if err != nil {
			return fmt.Errorf("sqlite: delete article %q: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return syndicate.Errorf(syndicate.ENOTFOUND, "article %q not found", id)
		}
		old, err := filings(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := markChannels(ctx, tx, id, seq); err != nil {
			return err
		}
		if err := markFiled(ctx, tx, seq, old); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM article_channels WHERE article_id = ?`, id); err != nil {
			return fmt.Errorf("sqlite: unfile article %q: %w", id, err)
		}
		return nil
	})
}

// Article implements store.Store.
func (s *DB) Article(ctx context.Context, id string) (syndicate.Article, error) {
	var data string
	err := s.db.QueryRowContext(ctx, `SELECT data FROM articles WHERE id = ? AND deleted = 0`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return syndicate.Article{}, syndicate.Errorf(syndicate.ENOTFOUND, "article %q not found", id)
	}
	if err != nil {
		return syndicate.Article{}, fmt.Errorf("sqlite: read article %q: %w", id, err)
	}
	a, err := storesql.DecodeArticle(id, []byte(data))
	if err != nil {
		return a, fmt.Errorf("sqlite: %w", err)
	}
	return a, nil
}

// ArticleCount implements store.Store.
func (s *DB) ArticleCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM articles`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count articles: %w", err)
	}
	return n, nil
}

// NewestItems implements store.Store with storesql.NewestItems.
func (s *DB) NewestItems(ctx context.Context, channels []string, limit int) ([]syndicate.Article, error) {
	items, err := storesql.NewestItems(ctx, newestQueries{s}, channels, limit, s.Tuning)
	if err != nil {
		return nil, fmt.Errorf("sqlite: newest items of %d channels: %w", len(channels), err)
	}
	return items, nil
}

// newestQueries are NewestItems' queries on SQLite.
type newestQueries struct{ s *DB }

// Walk implements storesql.NewestQueries, filtering the walk here: SQLite runs in-process, so a
// row costs the same here as in SQL, and one constant statement is prepared once where a set of a
// thousand channels would be compiled and bound on every call. It stops at limit distinct
// articles.
func (q newestQueries) Walk(ctx context.Context, channels []string, budget, limit, n int) ([]storesql.Candidate, error) {
	want := make(map[string]bool, len(channels))
	for _, c := range channels {
		want[c] = true
	}
	rows, err := q.s.db.QueryContext(ctx, `SELECT channel, article_id, published_at FROM article_channels
		INDEXED BY article_channels_recent ORDER BY published_at DESC, article_id LIMIT ?`, budget)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []storesql.Candidate
	seen := make(map[string]bool, limit)
	var ch []byte // sql.RawBytes: compared, never kept
	for len(out) < n && len(seen) < limit && rows.Next() {
		var c storesql.Candidate
		if err := rows.Scan((*sql.RawBytes)(&ch), &c.ID, &c.Published); err != nil {
			return nil, err
		}
		if want[string(ch)] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

// Seek implements storesql.NewestQueries: one prepared seek per channel, which SQLite runs
// in-process, so the merge costs no round trips.
func (q newestQueries) Seek(ctx context.Context, channels []string, limit int) ([]storesql.Candidate, error) {
	var out []storesql.Candidate
	for _, c := range channels {
		rows, err := q.s.db.QueryContext(ctx, `SELECT article_id, published_at FROM article_channels
			WHERE channel = ? ORDER BY published_at DESC, article_id LIMIT ?`, c, limit)
		if err != nil {
			return nil, err
		}
		cands, err := storesql.ScanCandidates(rows)
		rows.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, cands...)
	}
	return out, nil
}

// Articles implements storesql.NewestQueries.
func (q newestQueries) Articles(ctx context.Context, ids []string) (map[string]syndicate.Article, error) {
	rows, err := q.s.db.QueryContext(ctx, `SELECT `+storesql.ArticleColumns+` FROM articles a
		WHERE a.deleted = 0 AND a.id IN (`+placeholders(len(ids))+`)`, slugArgs(ids)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]syndicate.Article, len(ids))
	err = storesql.ScanArticles(rows, true, func(a syndicate.Article) { out[a.ID] = a })
	return out, err
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}
