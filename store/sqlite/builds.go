package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

// BuildState implements store.Store.
func (s *DB) BuildState(ctx context.Context, channel string) (store.BuildState, error) {
	var st store.BuildState
	var built int64
	err := s.db.QueryRowContext(ctx, `SELECT last_change, fingerprint, built_at FROM channel_builds WHERE channel = ?`, channel).
		Scan(&st.LastChange, &st.Fingerprint, &built)
	if errors.Is(err, sql.ErrNoRows) {
		return store.BuildState{}, nil
	}
	if err != nil {
		return st, fmt.Errorf("sqlite: build state of %q: %w", channel, err)
	}
	st.BuiltAt = fromMicros(built)
	return st, nil
}

// Changes implements store.Store.
func (s *DB) Changes(ctx context.Context, channel string, since, upTo int64) ([]store.Change, error) {
	// An article concerns the channel if it is filed there now or was announced there before.
	byChannel, err := storesql.ReadsChannel(upTo-since, s.Tuning.ChannelScanThreshold, func(limit int64) (n int64, err error) {
		err = s.db.QueryRowContext(ctx, countFilings, channel, limit).Scan(&n)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes of %q: %w", channel, err)
	}
	query := changesBySeq
	if byChannel {
		query = changesByChannel
	}
	rows, err := s.db.QueryContext(ctx, query, channel, since, upTo)
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes of %q: %w", channel, err)
	}
	defer rows.Close()
	out, err := storesql.ScanChanges(rows, fromOptMicros)
	if err != nil {
		return nil, fmt.Errorf("sqlite: changes of %q: %w", channel, err)
	}
	return out, nil
}

// CommitBuild implements store.Store.
// CommitBuild's statements, prepared on the writer connection (writeStatements).
const (
	sqlSaveDocument = `INSERT INTO documents (channel, format, body, encoding, etag, modified) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (channel, format) DO UPDATE SET body = excluded.body, encoding = excluded.encoding,
					etag = excluded.etag, modified = excluded.modified`
	sqlAddOutbox    = `INSERT INTO outbox (event_id, subject, channel, payload, created_at) VALUES (?, ?, ?, ?, ?)`
	sqlForgetItem   = `DELETE FROM channel_items WHERE channel = ? AND article_id = ?`
	sqlAnnounceItem = `INSERT INTO channel_items (channel, article_id, hash) VALUES (?, ?, ?)
					ON CONFLICT (channel, article_id) DO UPDATE SET hash = excluded.hash`
	sqlSaveSanitized = `UPDATE articles SET sanitized_hash = hash, sanitized_policy = ?, sanitized_html = ?
				WHERE id = ? AND hash = ?`
	sqlSaveBuildState = `INSERT INTO channel_builds (channel, last_change, fingerprint, built_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (channel) DO UPDATE SET last_change = excluded.last_change,
				fingerprint = excluded.fingerprint, built_at = excluded.built_at`
)

func (s *DB) CommitBuild(ctx context.Context, b store.Build) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, d := range b.Documents {
			body, enc := storesql.StoredBody(d)
			if _, err := s.exec(ctx, tx, sqlSaveDocument,
				d.Channel, d.Format, body, enc, d.ETag, micros(d.Modified)); err != nil {
				return fmt.Errorf("save document %s: %w", d.Format, err)
			}
		}
		for _, e := range b.Events {
			if _, err := s.exec(ctx, tx, sqlAddOutbox,
				e.EventID, e.Subject, e.Channel, e.Payload, micros(e.CreatedAt)); err != nil {
				return fmt.Errorf("add outbox row %s: %w", e.EventID, err)
			}
		}
		for id, hash := range b.Announced {
			var err error
			if hash == "" {
				_, err = s.exec(ctx, tx, sqlForgetItem, b.Channel, id)
			} else {
				_, err = s.exec(ctx, tx, sqlAnnounceItem, b.Channel, id, hash)
			}
			if err != nil {
				return fmt.Errorf("record announcement of %q: %w", id, err)
			}
		}
		for _, c := range b.Sanitized {
			if _, err := s.exec(ctx, tx, sqlSaveSanitized, c.Policy, c.HTML, c.ArticleID, c.Hash); err != nil {
				return fmt.Errorf("save sanitised content of %q: %w", c.ArticleID, err)
			}
		}
		_, err := s.exec(ctx, tx, sqlSaveBuildState,
			b.Channel, b.State.LastChange, b.State.Fingerprint, micros(b.State.BuiltAt))
		if err != nil {
			return fmt.Errorf("save build state: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: commit build of %q: %w", b.Channel, err)
	}
	return nil
}

// Document implements store.Store.
func (s *DB) Document(ctx context.Context, channel, format string) (syndicate.Document, error) {
	d := syndicate.Document{Channel: channel, Format: format}
	var body []byte
	var enc string
	var mod int64
	err := s.db.QueryRowContext(ctx, `SELECT body, encoding, etag, modified FROM documents WHERE channel = ? AND format = ?`, channel, format).
		Scan(&body, &enc, &d.ETag, &mod)
	if errors.Is(err, sql.ErrNoRows) {
		return d, syndicate.Errorf(syndicate.ENOTFOUND, "no %s feed for channel %q yet", format, channel)
	}
	if err == nil {
		err = storesql.LoadedBody(&d, body, enc)
	}
	if err != nil {
		return d, fmt.Errorf("sqlite: read document %s.%s: %w", channel, format, err)
	}
	d.Modified = fromMicros(mod)
	return d, nil
}

// Documents implements store.Store.
func (s *DB) Documents(ctx context.Context, fn func(syndicate.Document) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT channel, format, body, encoding, etag, modified FROM documents ORDER BY channel, format`)
	if err != nil {
		return fmt.Errorf("sqlite: read documents: %w", err)
	}
	defer rows.Close()
	if err := storesql.ScanDocuments(rows, fromMicros, fn); err != nil {
		return fmt.Errorf("sqlite: read documents: %w", err)
	}
	return nil
}

// DocumentTags implements store.Store.
func (s *DB) DocumentTags(ctx context.Context, fn func(channel, format, etag string)) error {
	rows, err := s.db.QueryContext(ctx, `SELECT channel, format, etag FROM documents`)
	if err != nil {
		return fmt.Errorf("sqlite: read document tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var channel, format, etag string
		if err := rows.Scan(&channel, &format, &etag); err != nil {
			return fmt.Errorf("sqlite: read document tags: %w", err)
		}
		fn(channel, format, etag)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read document tags: %w", err)
	}
	return nil
}

const countFilings = `SELECT count(*) FROM (SELECT 1 FROM article_channels WHERE channel = ? LIMIT ?)`

const changesBySeq = `SELECT a.id, a.seq, a.hash, a.deleted, a.data,
		ac.channel IS NOT NULL, coalesce(ci.hash, ''), a.revision, a.changed_at
	FROM articles a
	LEFT JOIN article_channels ac ON ac.article_id = a.id AND ac.channel = ?1
	LEFT JOIN channel_items ci ON ci.article_id = a.id AND ci.channel = ?1
	WHERE a.seq > ?2 AND a.seq <= ?3 AND (ac.channel IS NOT NULL OR ci.article_id IS NOT NULL)
	ORDER BY a.seq`

const changesByChannel = `SELECT a.id, a.seq, a.hash, a.deleted, a.data, 1, coalesce(ci.hash, ''), a.revision, a.changed_at
	FROM article_channels ac JOIN articles a ON a.id = ac.article_id
	LEFT JOIN channel_items ci ON ci.article_id = a.id AND ci.channel = ?1
	WHERE ac.channel = ?1 AND a.seq > ?2 AND a.seq <= ?3
	UNION ALL
	SELECT a.id, a.seq, a.hash, a.deleted, a.data, 0, ci.hash, a.revision, a.changed_at
	FROM channel_items ci JOIN articles a ON a.id = ci.article_id
	WHERE ci.channel = ?1 AND a.seq > ?2 AND a.seq <= ?3
		AND NOT EXISTS (SELECT 1 FROM article_channels x WHERE x.channel = ?1 AND x.article_id = ci.article_id)
	ORDER BY 2`
