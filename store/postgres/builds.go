package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// BuildState implements store.Store.
func (s *DB) BuildState(ctx context.Context, channel string) (store.BuildState, error) {
	var st store.BuildState
	err := s.pool.QueryRow(ctx, `SELECT last_change, fingerprint, built_at FROM channel_builds WHERE channel = $1`, channel).
		Scan(&st.LastChange, &st.Fingerprint, &st.BuiltAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.BuildState{}, nil
	}
	if err != nil {
		return store.BuildState{}, fmt.Errorf("postgres: build state of %q: %w", channel, err)
	}
	st.BuiltAt = st.BuiltAt.UTC()
	return st, nil
}

// Changes implements store.Store. Change numbers become visible in order (see lockChanges), so
// every number up to upTo, which was read before, is visible here; the count only picks the read.
func (s *DB) Changes(ctx context.Context, channel string, since, upTo int64) ([]store.Change, error) {
	// An article concerns the channel if it is filed there now or was announced there before.
	byChannel, err := storesql.ReadsChannel(upTo-since, s.Tuning.ChannelScanThreshold, func(limit int64) (n int64, err error) {
		err = s.pool.QueryRow(ctx, countFilings, channel, limit).Scan(&n)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: changes of %q: %w", channel, err)
	}
	query := changesBySeq
	if byChannel {
		query = changesByChannel
	}
	rows, err := s.pool.Query(ctx, query, channel, since, upTo)
	if err != nil {
		return nil, fmt.Errorf("postgres: changes of %q: %w", channel, err)
	}
	defer rows.Close()
	out, err := storesql.ScanChanges(rows, fromOptTime)
	if err != nil {
		return nil, fmt.Errorf("postgres: changes of %q: %w", channel, err)
	}
	return out, nil
}

// CommitBuild implements store.Store. The statements go in one batch, one round trip, however
// many events the build wrote.
func (s *DB) CommitBuild(ctx context.Context, b store.Build) error {
	batch, what := buildBatch(b)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkFence(ctx, tx); err != nil {
			return err
		}
		br := tx.SendBatch(ctx, batch)
		for _, w := range what {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("%s: %w", w, err)
			}
		}
		return br.Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: commit build of %q: %w", b.Channel, err)
	}
	return nil
}

// buildBatch queues a build's statements and says what each does, for errors.
func buildBatch(b store.Build) (*pgx.Batch, []string) {
	batch := &pgx.Batch{}
	var what []string
	if len(b.Events) == 0 && len(b.Announced) == 0 {
		// Nothing in this commit leaves the system: if a crash loses it, the next build renders
		// the same bytes again. So it need not wait for the WAL flush, which took a fifth of a
		// full rebuild of a thousand channels (bench/notes.md). A build with events keeps a
		// synchronous commit: the relay may publish them before a later flush would happen.
		batch.Queue(`SET LOCAL synchronous_commit = off`)
		what = append(what, "relax durability of a build without events")
	}
	for _, d := range b.Documents {
		body, enc := storesql.StoredBody(d)
		batch.Queue(`INSERT INTO documents (channel, format, body, encoding, etag, modified) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (channel, format) DO UPDATE SET body = excluded.body, encoding = excluded.encoding,
				etag = excluded.etag, modified = excluded.modified`,
			d.Channel, d.Format, body, enc, d.ETag, d.Modified)
		what = append(what, "save document "+d.Format)
	}
	for _, e := range b.Events {
		batch.Queue(`INSERT INTO outbox (event_id, subject, channel, payload, created_at) VALUES ($1, $2, $3, $4, $5)`,
			e.EventID, e.Subject, e.Channel, e.Payload, e.CreatedAt)
		what = append(what, "add outbox row "+e.EventID)
	}
	for id, hash := range b.Announced {
		if hash == "" {
			batch.Queue(`DELETE FROM channel_items WHERE channel = $1 AND article_id = $2`, b.Channel, id)
		} else {
			batch.Queue(`INSERT INTO channel_items (channel, article_id, hash) VALUES ($1, $2, $3)
				ON CONFLICT (channel, article_id) DO UPDATE SET hash = excluded.hash`, b.Channel, id, hash)
		}
		what = append(what, fmt.Sprintf("record announcement of %q", id))
	}
	if len(b.Sanitized) > 0 {
		// Builds of a channel and of its parent read the same articles and sanitise them side by
		// side: each skips the rows the other holds rather than wait for it, or deadlock.
		n := len(b.Sanitized)
		ids, hashes, policies, htmls := make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
		for i, c := range b.Sanitized {
			ids[i], hashes[i], policies[i], htmls[i] = c.ArticleID, c.Hash, c.Policy, c.HTML
		}
		batch.Queue(`UPDATE articles a SET sanitized_hash = a.hash, sanitized_policy = u.policy, sanitized_html = u.html
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u (id, hash, policy, html)
			WHERE a.id = u.id AND a.hash = u.hash
				AND a.id IN (SELECT id FROM articles WHERE id = ANY ($1::text[]) ORDER BY id FOR NO KEY UPDATE SKIP LOCKED)`,
			ids, hashes, policies, htmls)
		what = append(what, "save sanitised content")
	}
	batch.Queue(`INSERT INTO channel_builds (channel, last_change, fingerprint, built_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (channel) DO UPDATE SET last_change = excluded.last_change,
			fingerprint = excluded.fingerprint, built_at = excluded.built_at`,
		b.Channel, b.State.LastChange, b.State.Fingerprint, b.State.BuiltAt)
	what = append(what, "save build state")
	return batch, what
}

// Document implements store.Store.
func (s *DB) Document(ctx context.Context, channel, format string) (syndicate.Document, error) {
	d := syndicate.Document{Channel: channel, Format: format}
	var body []byte
	var enc string
	err := s.pool.QueryRow(ctx, `SELECT body, encoding, etag, modified FROM documents WHERE channel = $1 AND format = $2`, channel, format).
		Scan(&body, &enc, &d.ETag, &d.Modified)
	if errors.Is(err, pgx.ErrNoRows) {
		return d, syndicate.Errorf(syndicate.ENOTFOUND, "no %s feed for channel %q yet", format, channel)
	}
	if err == nil {
		err = storesql.LoadedBody(&d, body, enc)
	}
	if err != nil {
		return d, fmt.Errorf("postgres: read document %s.%s: %w", channel, format, err)
	}
	d.Modified = d.Modified.UTC()
	return d, nil
}

// Documents implements store.Store.
func (s *DB) Documents(ctx context.Context, fn func(syndicate.Document) error) error {
	rows, err := s.pool.Query(ctx, `SELECT channel, format, body, encoding, etag, modified FROM documents ORDER BY channel, format`)
	if err != nil {
		return fmt.Errorf("postgres: read documents: %w", err)
	}
	defer rows.Close()
	if err := storesql.ScanDocuments(rows, utc, fn); err != nil { // pgx scans bytea into a fresh slice
		return fmt.Errorf("postgres: read documents: %w", err)
	}
	return nil
}

// DocumentTags implements store.Store.
func (s *DB) DocumentTags(ctx context.Context, fn func(channel, format, etag string)) error {
	rows, err := s.pool.Query(ctx, `SELECT channel, format, etag FROM documents`)
	if err != nil {
		return fmt.Errorf("postgres: read document tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var channel, format, etag string
		if err := rows.Scan(&channel, &format, &etag); err != nil {
			return fmt.Errorf("postgres: read document tags: %w", err)
		}
		fn(channel, format, etag)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: read document tags: %w", err)
	}
	return nil
}

const countFilings = `SELECT count(*) FROM (SELECT 1 FROM article_channels WHERE channel = $1 LIMIT $2) f`

const changesBySeq = `SELECT a.id, a.seq, a.hash, a.deleted, a.data,
		ac.channel IS NOT NULL, coalesce(ci.hash, ''), a.revision, a.changed_at
	FROM articles a
	LEFT JOIN article_channels ac ON ac.article_id = a.id AND ac.channel = $1
	LEFT JOIN channel_items ci ON ci.article_id = a.id AND ci.channel = $1
	WHERE a.seq > $2 AND a.seq <= $3 AND (ac.channel IS NOT NULL OR ci.article_id IS NOT NULL)
	ORDER BY a.seq`

const changesByChannel = `SELECT a.id, a.seq, a.hash, a.deleted, a.data, true, coalesce(ci.hash, ''), a.revision, a.changed_at
	FROM article_channels ac JOIN articles a ON a.id = ac.article_id
	LEFT JOIN channel_items ci ON ci.article_id = a.id AND ci.channel = $1
	WHERE ac.channel = $1 AND a.seq > $2 AND a.seq <= $3
	UNION ALL
	SELECT a.id, a.seq, a.hash, a.deleted, a.data, false, ci.hash, a.revision, a.changed_at
	FROM channel_items ci JOIN articles a ON a.id = ci.article_id
	WHERE ci.channel = $1 AND a.seq > $2 AND a.seq <= $3
		AND NOT EXISTS (SELECT 1 FROM article_channels x WHERE x.channel = $1 AND x.article_id = ci.article_id)
	ORDER BY 2`
