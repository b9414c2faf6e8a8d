package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// rowsPerInsert is how many rows one multi-row INSERT carries: few enough statements that their
// overhead stays small beside the rows (the import target in BENCHMARKS.md), well under SQLite's
// 32,766 variables.
const rowsPerInsert = 200

// UpsertArticles implements store.Store: one read of the batch's stored rows and filings, then
// multi-row inserts, in one transaction.
func (s *DB) UpsertArticles(ctx context.Context, ws []store.Write) ([]store.Upserted, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	var plan storesql.BatchPlan
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		seq, err := nextSeq(ctx, tx)
		if err != nil {
			return err
		}
		stored, err := storedArticles(ctx, tx, ws)
		if err != nil {
			return err
		}
		plan = storesql.PlanBatch(ws, stored, seq-1)
		return writePlan(ctx, tx, &plan, micros(s.Now()))
	})
	if err != nil {
		return nil, err
	}
	return plan.Results, nil
}

// storedArticles reads the stored rows and filings of the batch's articles.
func storedArticles(ctx context.Context, tx *sql.Tx, ws []store.Write) (map[string]storesql.Stored, error) {
	ids := make([]any, 0, len(ws))
	seen := make(map[string]bool, len(ws))
	for _, w := range ws {
		if !seen[w.Article.ID] {
			seen[w.Article.ID] = true
			ids = append(ids, w.Article.ID)
		}
	}
	out := make(map[string]storesql.Stored, len(ids))
	for chunk := range chunks(ids, 500) {
		rows, err := tx.QueryContext(ctx, `SELECT id, hash, deleted, revision
			FROM articles WHERE id IN (`+placeholders(len(chunk))+`)`, chunk...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read stored articles: %w", err)
		}
		for rows.Next() {
			var id string
			var st storesql.Stored
			if err := rows.Scan(&id, &st.Hash, &st.Deleted, &st.Revision); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: scan stored article: %w", err)
			}
			out[id] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: read stored articles: %w", err)
		}
		rows, err = tx.QueryContext(ctx, `SELECT article_id, channel FROM article_channels WHERE article_id IN (`+placeholders(len(chunk))+`)`, chunk...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read stored filings: %w", err)
		}
		for rows.Next() {
			var id, c string
			if err := rows.Scan(&id, &c); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: scan stored filing: %w", err)
			}
			st := out[id]
			st.Channels = append(st.Channels, c)
			out[id] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: read stored filings: %w", err)
		}
	}
	return out, nil
}

// writePlan writes a batch's rows; changedAt is the time of its changes.
func writePlan(ctx context.Context, tx *sql.Tx, p *storesql.BatchPlan, changedAt int64) error {
	if err := insertRows(ctx, tx, `INSERT INTO articles (id, seq, hash, deleted, published_at, data, sanitized_hash, sanitized_policy, sanitized_html, revision, changed_at) VALUES `,
		"(?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)",
		` ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
			deleted = 0, published_at = excluded.published_at, data = excluded.data,
			sanitized_hash = excluded.sanitized_hash, sanitized_policy = excluded.sanitized_policy, sanitized_html = excluded.sanitized_html,
			revision = excluded.revision, changed_at = excluded.changed_at`,
		len(p.Rows), func(i int, args []any) []any {
			r := &p.Rows[i]
			return append(args, r.ID, r.Seq, r.Hash, micros(r.PublishedAt), string(r.Data), r.SafeHash, r.SafePolicy, r.SafeHTML, r.Revision, changedAt)
		}); err != nil {
		return fmt.Errorf("sqlite: save articles: %w", err)
	}
	unfile := make([]any, len(p.Unfile))
	for i, id := range p.Unfile {
		unfile[i] = id
	}
	for chunk := range chunks(unfile, 500) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM article_channels WHERE article_id IN (`+placeholders(len(chunk))+`)`, chunk...); err != nil {
			return fmt.Errorf("sqlite: clear channels: %w", err)
		}
	}
	if err := insertRows(ctx, tx, `INSERT INTO article_channels (channel, article_id, published_at) VALUES `, "(?, ?, ?)", "",
		len(p.Filings), func(i int, args []any) []any {
			f := &p.Filings[i]
			return append(args, f.Channel, f.ArticleID, micros(f.PublishedAt))
		}); err != nil {
		return fmt.Errorf("sqlite: file articles: %w", err)
	}
	if err := insertRows(ctx, tx, `INSERT INTO archive_slots (channel, seq, article_id) VALUES `, "(?, ?, ?)", " ON CONFLICT DO NOTHING",
		len(p.Slots), func(i int, args []any) []any {
			sl := &p.Slots[i]
			return append(args, sl.Channel, sl.Seq, sl.ArticleID)
		}); err != nil {
		return fmt.Errorf("sqlite: archive slots: %w", err)
	}
	// A change number only grows, so the newest filing change is the larger of the two.
	if err := insertRows(ctx, tx, `INSERT INTO channel_marks (channel, seq, filed) VALUES `, "(?, ?, ?)",
		" ON CONFLICT (channel) DO UPDATE SET seq = excluded.seq, filed = max(channel_marks.filed, excluded.filed)",
		len(p.Marks), func(i int, args []any) []any {
			m := &p.Marks[i]
			return append(args, m.Channel, m.Seq, m.Filed)
		}); err != nil {
		return fmt.Errorf("sqlite: mark channels: %w", err)
	}
	return nil
}

// insertRows inserts n rows, rowsPerInsert to a statement: head, then one values tuple per row
// with the arguments args(i) appends, then tail.
func insertRows(ctx context.Context, tx *sql.Tx, head, tuple, tail string, n int, args func(i int, args []any) []any) error {
	var list []any
	for from := 0; from < n; from += rowsPerInsert {
		to := min(from+rowsPerInsert, n)
		list = list[:0]
		for i := from; i < to; i++ {
			list = args(i, list)
		}
		q := head + strings.TrimSuffix(strings.Repeat(tuple+",", to-from), ",") + tail
		if _, err := tx.ExecContext(ctx, q, list...); err != nil {
			return err
		}
	}
	return nil
}

// chunks splits list into slices of at most n.
func chunks(list []any, n int) func(yield func([]any) bool) {
	return func(yield func([]any) bool) {
		for from := 0; from < len(list); from += n {
			if !yield(list[from:min(from+n, len(list))]) {
				return
			}
		}
	}
}

// ArticleHashes implements store.Store.
func (s *DB) ArticleHashes(ctx context.Context, ids []string) (map[string]string, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	out := make(map[string]string, len(ids))
	for chunk := range chunks(args, 500) {
		rows, err := s.db.QueryContext(ctx, `SELECT id, hash FROM articles WHERE deleted = 0 AND id IN (`+placeholders(len(chunk))+`)`, chunk...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: read article hashes: %w", err)
		}
		err = storesql.ScanHashes(rows, out)
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("sqlite: read article hashes: %w", err)
		}
	}
	return out, nil
}

// ForgetPages closes connections as soon as they are done with, so that no connection keeps a
// page cache (up to 64 MiB each, cache_size) between transactions. `syndicate import` is a process
// of its own and calls it so that its memory stays bounded whatever the size of the file and the
// database (the import's RSS target in BENCHMARKS.md); what a batch reads again comes from the
// operating system's cache. The service keeps its connections and their caches.
func (s *DB) ForgetPages() {
	s.db.db.SetMaxIdleConns(0)
	s.w.SetMaxIdleConns(0)
}
