package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// UpsertArticles implements store.Store: under the change counter's lock (lockChanges), one read
// of the batch's stored rows and filings, then every write in one pgx.Batch, each statement
// taking its rows as arrays (unnest): two round trips in all, whatever the batch size.
func (s *DB) UpsertArticles(ctx context.Context, ws []store.Write) ([]store.Upserted, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	var plan storesql.BatchPlan
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		last, err := lockChanges(ctx, tx)
		if err != nil {
			return err
		}
		stored, err := storedArticles(ctx, tx, ws)
		if err != nil {
			return err
		}
		plan = storesql.PlanBatch(ws, stored, last)
		return writePlan(ctx, tx, &plan, last)
	})
	if err != nil {
		return nil, err
	}
	return plan.Results, nil
}

// storedArticles reads the stored rows and filings of the batch's articles.
func storedArticles(ctx context.Context, tx pgx.Tx, ws []store.Write) (map[string]storesql.Stored, error) {
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.Article.ID
	}
	// One article (every UpsertArticle) is looked up by equality, not ANY: pgx caches the
	// statement per connection, and PostgreSQL keeps the generic plan it chose from the first
	// executions. Made while articles looked empty (a fresh install, autovacuum off or not run
	// yet), ANY's is a sequential scan, kept as the table grows: filling 100,000 articles one by
	// one ran at 47/s. A primary-key equality plans as an index lookup whatever the statistics.
	var key any = ids
	where := `a.id = ANY($1)`
	if len(ids) == 1 {
		key, where = ids[0], `a.id = $1`
	}
	rows, err := tx.Query(ctx, `SELECT a.id, a.hash, a.deleted, a.revision,
			coalesce((SELECT array_agg(ac.channel) FROM article_channels ac WHERE ac.article_id = a.id), '{}')
		FROM articles a WHERE `+where, key)
	if err != nil {
		return nil, fmt.Errorf("postgres: read stored articles: %w", err)
	}
	defer rows.Close()
	out := make(map[string]storesql.Stored, len(ws))
	for rows.Next() {
		var id string
		var st storesql.Stored
		if err := rows.Scan(&id, &st.Hash, &st.Deleted, &st.Revision, &st.Channels); err != nil {
			return nil, fmt.Errorf("postgres: scan stored article: %w", err)
		}
		if len(st.Channels) == 0 {
			st.Channels = nil
		}
		out[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read stored articles: %w", err)
	}
	return out, nil
}

// writePlan queues a batch's writes and sends them in one round trip.
func writePlan(ctx context.Context, tx pgx.Tx, p *storesql.BatchPlan, last int64) error {
	var b pgx.Batch
	if n := len(p.Rows); n > 0 {
		ids, hashes, data, safeHashes, policies := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seqs, revisions := make([]int64, n), make([]int64, n)
		published := make([]time.Time, n)
		html := make([]*string, n)
		for i, r := range p.Rows {
			ids[i], seqs[i], hashes[i], published[i], data[i] = r.ID, r.Seq, r.Hash, r.PublishedAt, string(r.Data)
			safeHashes[i], policies[i], html[i], revisions[i] = r.SafeHash, r.SafePolicy, r.SafeHTML, r.Revision
		}
		b.Queue(`INSERT INTO articles (id, seq, hash, deleted, published_at, data, sanitized_hash, sanitized_policy, sanitized_html, revision, changed_at)
			SELECT id, seq, hash, false, published_at, data::json, sanitized_hash, sanitized_policy, sanitized_html, revision, now()
			FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[])
				AS r (id, seq, hash, published_at, data, sanitized_hash, sanitized_policy, sanitized_html, revision)
			ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash,
				deleted = false, published_at = excluded.published_at, data = excluded.data,
				sanitized_hash = excluded.sanitized_hash, sanitized_policy = excluded.sanitized_policy, sanitized_html = excluded.sanitized_html,
				revision = excluded.revision, changed_at = excluded.changed_at`,
			ids, seqs, hashes, published, data, safeHashes, policies, html, revisions)
	}
	if len(p.Unfile) > 0 {
		b.Queue(`DELETE FROM article_channels WHERE article_id = ANY($1)`, p.Unfile)
	}
	if n := len(p.Filings); n > 0 {
		channels, ids, published := make([]string, n), make([]string, n), make([]time.Time, n)
		for i, f := range p.Filings {
			channels[i], ids[i], published[i] = f.Channel, f.ArticleID, f.PublishedAt
		}
		b.Queue(`INSERT INTO article_channels (channel, article_id, published_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])`, channels, ids, published)
	}
	if n := len(p.Slots); n > 0 {
		channels, seqs, ids := make([]string, n), make([]int64, n), make([]string, n)
		for i, sl := range p.Slots {
			channels[i], seqs[i], ids[i] = sl.Channel, sl.Seq, sl.ArticleID
		}
		b.Queue(`INSERT INTO archive_slots (channel, seq, article_id) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])`, channels, seqs, ids)
	}
	if n := len(p.Marks); n > 0 {
		channels, seqs, filed := make([]string, n), make([]int64, n), make([]int64, n)
		for i, m := range p.Marks {
			channels[i], seqs[i], filed[i] = m.Channel, m.Seq, m.Filed
		}
		// A change number only grows, so the newest filing change is the larger of the two.
		b.Queue(`INSERT INTO channel_marks (channel, seq, filed) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[])
			ON CONFLICT (channel) DO UPDATE SET seq = excluded.seq, filed = GREATEST(channel_marks.filed, excluded.filed)`, channels, seqs, filed)
	}
	if p.LastSeq != last {
		b.Queue(`UPDATE change_counter SET last_seq = $1`, p.LastSeq)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("postgres: save articles: %w", err)
	}
	return nil
}

// ArticleHashes implements store.Store.
func (s *DB) ArticleHashes(ctx context.Context, ids []string) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, hash FROM articles WHERE NOT deleted AND id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: read article hashes: %w", err)
	}
	defer rows.Close()
	out := make(map[string]string, len(ids))
	if err := storesql.ScanHashes(rows, out); err != nil {
		return nil, fmt.Errorf("postgres: read article hashes: %w", err)
	}
	return out, nil
}
