package storesql

import (
	"database/sql"
	"encoding/json"
	"fmt"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// Rows is what the result sets of database/sql and pgx have in common; the caller closes them.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// ArticleColumns are the columns of articles (alias a) that ScanArticles reads.
const ArticleColumns = `a.id, a.hash, a.data, a.sanitized_hash, a.sanitized_policy, a.sanitized_html`

// ScanArticles decodes rows of ArticleColumns, each with its stored hash and the sanitised
// content saved for that version, and calls fn with each in turn. With raw, the JSON is read
// without a copy (database/sql's sql.RawBytes, valid until the next row): decoding it at once
// spares copying every article twice.
func ScanArticles(rows Rows, raw bool, fn func(syndicate.Article)) error {
	var id, hash, safeHash, safePolicy string
	var data []byte
	var safeHTML *string
	dest := []any{&id, &hash, &data, &safeHash, &safePolicy, &safeHTML}
	if raw {
		dest[2] = (*sql.RawBytes)(&data)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("scan article: %w", err)
		}
		a, err := DecodeArticle(id, data)
		if err != nil {
			return err
		}
		a.StoredHash, a.Sanitized = hash, sanitizedFor(&a, hash, safeHash, safePolicy, safeHTML)
		fn(a)
	}
	return rows.Err()
}

// ScanCandidates reads rows of (article_id, published_at as a number).
func ScanCandidates(rows Rows) ([]Candidate, error) {
	var out []Candidate
	for rows.Next() {
		var c Candidate
		if err := rows.Scan(&c.ID, &c.Published); err != nil {
			return nil, fmt.Errorf("scan filing: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// DecodeArticle decodes an article's stored JSON.
func DecodeArticle(id string, data []byte) (syndicate.Article, error) {
	var a syndicate.Article
	if err := json.Unmarshal(data, &a); err != nil {
		return a, fmt.Errorf("decode article %q: %w", id, err)
	}
	return a, nil
}

// ScanMarks reads rows of (channel, seq, filed) by channel.
func ScanMarks(rows Rows) (map[string]store.Mark, error) {
	out := map[string]store.Mark{}
	for rows.Next() {
		var c string
		var m store.Mark
		if err := rows.Scan(&c, &m.Seq, &m.Filed); err != nil {
			return nil, fmt.Errorf("scan channel mark: %w", err)
		}
		out[c] = m
	}
	return out, rows.Err()
}

// ScanHashes reads rows of (id, hash) into out.
func ScanHashes(rows Rows, out map[string]string) error {
	for rows.Next() {
		var id, hash string
		if err := rows.Scan(&id, &hash); err != nil {
			return fmt.Errorf("scan article hash: %w", err)
		}
		out[id] = hash
	}
	return rows.Err()
}
