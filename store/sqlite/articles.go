package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// UpsertArticle implements store.Store.
func (s *DB) UpsertArticle(ctx context.Context, a syndicate.Article) (store.UpsertOutcome, error) {
	hash := a.Hash()
	data, err := json.Marshal(a)
	if err != nil {
		return 0, fmt.Errorf("sqlite: encode article %q: %w", a.ID, err)
	}
	var outcome store.UpsertOutcome
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var oldHash, oldPolicy string
		var deleted bool
		var firstSeq int64
		err := tx.QueryRowContext(ctx, `SELECT hash, deleted, first_seq, CASE WHEN sanitized_hash = hash THEN sanitized_policy ELSE '' END FROM articles WHERE id = ?`, a.ID).Scan(&oldHash, &deleted, &firstSeq, &oldPolicy)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			outcome = store.UpsertCreated
		case err != nil:
			return fmt.Errorf("sqlite: read article %q: %w", a.ID, err)
		case deleted:
			outcome = store.UpsertCreated
		case oldHash == hash:
			outcome = store.UpsertUnchanged
			if a.Sanitized.Policy == "" || a.Sanitized.Policy == oldPolicy {
				return nil
			}
			// The same article, sanitised under a policy the stored row predates.
			if _, err := tx.ExecContext(ctx, `UPDATE articles SET sanitized_hash = hash, sanitized_policy = ?, sanitized_html = ? WHERE id = ?`,
				a.Sanitized.Policy, store.SanitizedHTML(a.ContentHTML, a.Sanitized), a.ID); err != nil {
				return fmt.Errorf("sqlite: save sanitised content of %q: %w", a.ID, err)
			}
			return nil
		default:
			outcome = store.UpsertUpdated
		}
		seq, err := nextSeq(ctx, tx)
		if err != nil {
			return err
		}
		if outcome == store.UpsertCreated {
			firstSeq = seq // an update keeps it; archive pages follow archive_slots (addSlots)
		}
		// revision counts every change of the article, deletions included (events' data.revision).
		if _, err := tx.ExecContext(ctx, `INSERT INTO articles (id, seq, first_seq, hash, deleted, published_at, data, sanitized_hash, sanitized_policy, sanitized_html, revision, changed_at)
			VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, 1, ?)
			ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, first_seq = excluded.first_seq, hash = excluded.hash,
				deleted = 0, published_at = excluded.published_at, data = excluded.data,
				sanitized_hash = excluded.sanitized_hash, sanitized_policy = excluded.sanitized_policy, sanitized_html = excluded.sanitized_html,
				revision = articles.revision + 1, changed_at = excluded.changed_at`,
			a.ID, seq, firstSeq, hash, micros(a.PublishedAt), string(data), store.SanitizedHash(hash, a.Sanitized), a.Sanitized.Policy, store.SanitizedHTML(a.ContentHTML, a.Sanitized),
			micros(s.Now())); err != nil {
			return fmt.Errorf("sqlite: save article %q: %w", a.ID, err)
		}
		old, err := filings(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if err := markChannels(ctx, tx, a.ID, seq); err != nil { // the channels it leaves
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM article_channels WHERE article_id = ?`, a.ID); err != nil {
			return fmt.Errorf("sqlite: clear channels of %q: %w", a.ID, err)
		}
		for _, c := range a.Channels {
			if _, err := tx.ExecContext(ctx, `INSERT INTO article_channels (channel, article_id, published_at, first_seq) VALUES (?, ?, ?, ?)`,
				c, a.ID, micros(a.PublishedAt), firstSeq); err != nil {
				return fmt.Errorf("sqlite: file %q in %q: %w", a.ID, c, err)
			}
		}
		if err := addSlots(ctx, tx, a.ID, seq, old, a.Channels); err != nil {
			return err
		}
		if err := markChannels(ctx, tx, a.ID, seq); err != nil { // the channels it is in now
			return err
		}
		return markFiled(ctx, tx, seq, store.Refiled(old, a.Channels))
	})
	return outcome, err
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
	out := map[string]store.Mark{}
	for rows.Next() {
		var c string
		var m store.Mark
		if err := rows.Scan(&c, &m.Seq, &m.Filed); err != nil {
			return nil, fmt.Errorf("sqlite: scan channel mark: %w", err)
		}
		out[c] = m
	}
	if err := rows.Err(); err != nil {
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
	return decodeArticle(id, []byte(data))
}

// ArticleCount implements store.Store.
func (s *DB) ArticleCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM articles`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count articles: %w", err)
	}
	return n, nil
}

// NewestItems implements store.Store. Each channel's newest rows come from one seek into the
// (channel, published_at DESC, article_id) index; they are merged here and only the winners'
// data is read. One query over all channels would read every article of a large subtree (the
// site-wide feed: all of them) just to sort it.
func (s *DB) NewestItems(ctx context.Context, channels []string, limit int) ([]syndicate.Article, error) {
	if len(channels) == 0 || limit <= 0 {
		return nil, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: newest items: %w", err)
	}
	defer conn.Close()
	var cands []store.Candidate
	if len(channels) >= manyChannels {
		var done bool
		if cands, done, err = newestAcross(ctx, conn, channels, limit); err != nil {
			return nil, err
		}
		if done {
			channels = nil
		} else {
			cands = nil // a quiet subtree: seek into each channel
		}
	}
	stmt, err := conn.PrepareContext(ctx, `SELECT article_id, published_at FROM article_channels
		WHERE channel = ? ORDER BY published_at DESC, article_id LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: newest items: %w", err)
	}
	defer stmt.Close()
	for _, c := range channels {
		rows, err := stmt.QueryContext(ctx, c, limit)
		if err != nil {
			return nil, fmt.Errorf("sqlite: newest items of %q: %w", c, err)
		}
		for rows.Next() {
			var cd store.Candidate
			var pub int64
			if err := rows.Scan(&cd.ID, &pub); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: scan item: %w", err)
			}
			cd.Published = pub
			cands = append(cands, cd)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: newest items of %q: %w", c, err)
		}
	}
	ids := store.Newest(cands, limit)
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := conn.QueryContext(ctx, `SELECT id, hash, data, sanitized_hash, sanitized_policy, sanitized_html FROM articles WHERE id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read newest items: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]syndicate.Article, len(ids))
	for rows.Next() {
		var id, hash string
		var data sql.RawBytes // decoded before the next row: spares copying every article twice
		var safeHash, safePolicy string
		var safeHTML *string
		if err := rows.Scan(&id, &hash, &data, &safeHash, &safePolicy, &safeHTML); err != nil {
			return nil, fmt.Errorf("sqlite: scan item: %w", err)
		}
		a, err := decodeArticle(id, data)
		if err != nil {
			return nil, err
		}
		a.StoredHash, a.Sanitized = hash, store.SanitizedFor(&a, hash, safeHash, safePolicy, safeHTML)
		byID[id] = a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: read newest items: %w", err)
	}
	out := make([]syndicate.Article, 0, len(ids))
	for _, id := range ids {
		if a, ok := byID[id]; ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// manyChannels is where one walk down the newest filings of all channels beats a seek per
// channel: the site-wide feed, or a parent of many channels.
const manyChannels = 32

// newestAcross walks the filings of every channel newest first and keeps those in channels until
// limit distinct articles are found. It reports false when it gave up after store.WalkBudget
// filings without finding them.
func newestAcross(ctx context.Context, conn *sql.Conn, channels []string, limit int) ([]store.Candidate, bool, error) {
	want := make(map[string]bool, len(channels))
	for _, c := range channels {
		want[c] = true
	}
	rows, err := conn.QueryContext(ctx, `SELECT channel, article_id, published_at FROM article_channels
		INDEXED BY article_channels_recent ORDER BY published_at DESC, article_id LIMIT ?`, store.WalkBudget(limit))
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: newest items across channels: %w", err)
	}
	defer rows.Close()
	var out []store.Candidate
	seen := map[string]bool{}
	walked := 0
	for len(seen) < limit && rows.Next() {
		walked++
		var c store.Candidate
		var ch string
		if err := rows.Scan(&ch, &c.ID, &c.Published); err != nil {
			return nil, false, fmt.Errorf("sqlite: scan item: %w", err)
		}
		if want[ch] {
			seen[c.ID] = true
			out = append(out, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("sqlite: newest items across channels: %w", err)
	}
	// Short of limit: every filing was walked, or the budget ran out.
	return out, len(seen) == limit || walked < store.WalkBudget(limit), nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func decodeArticle(id string, data []byte) (syndicate.Article, error) {
	var a syndicate.Article
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("sqlite: decode article %q: %w", id, err)
	}
	return a, nil
}
