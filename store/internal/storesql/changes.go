package storesql

import (
	"fmt"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// classify decides what a channel must announce about an article: filed tells whether the article
// is (still, and undeleted) in the channel, hash is its content hash and announced the hash the
// channel announced last ("" if never). It returns 0 when there is nothing to announce.
func classify(filed bool, hash, announced string) store.ChangeKind {
	switch {
	case filed && announced == "":
		return store.ChangeAdded
	case filed && announced != hash:
		return store.ChangeUpdated
	case !filed && announced != "":
		return store.ChangeRemoved
	}
	return 0
}

// ReadsChannel tells whether Changes should read the channel's own filings (by channel) rather
// than every change made since its last build (by change number): span is how many changes were
// made since, threshold the store's Tuning.ChannelScanThreshold, and filings counts the channel's
// filings, stopping at limit. Either read looks at each of its rows once, so the smaller set
// wins: a tick after a bulk import of a thousand articles into a thousand small channels would
// otherwise have each channel walk all thousand changes (the 1,000-topic hub benchmark spent a
// third of its CPU there), while a big channel built a moment ago reads the few changes since.
// Counting stops at span, so the question costs no more than the cheaper answer.
func ReadsChannel(span, threshold int64, filings func(limit int64) (int64, error)) (bool, error) {
	if span <= threshold {
		return false, nil
	}
	n, err := filings(span)
	if err != nil {
		return false, fmt.Errorf("count filings: %w", err)
	}
	return n < span, nil
}

// ScanChanges reads rows of an article's id, seq, hash, deleted and data, whether it is filed in
// the channel, the hash the channel announced (” if none), its revision and changed_at, into
// the changes the channel must announce; at converts the engine's changed_at (T) to a time, zero
// when the store did not keep it.
func ScanChanges[T any](rows Rows, at func(T) time.Time) ([]store.Change, error) {
	var out []store.Change
	for rows.Next() {
		var id, hash, announced string
		var data []byte
		var seq, revision int64
		var deleted, filed bool
		var changed T
		if err := rows.Scan(&id, &seq, &hash, &deleted, &data, &filed, &announced, &revision, &changed); err != nil {
			return nil, fmt.Errorf("scan change: %w", err)
		}
		kind := classify(filed && !deleted, hash, announced)
		if kind == 0 {
			continue
		}
		a, err := DecodeArticle(id, data)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Change{Kind: kind, Seq: seq, Hash: hash, Article: a, Revision: revision, At: at(changed), Deleted: deleted})
	}
	return out, rows.Err()
}
