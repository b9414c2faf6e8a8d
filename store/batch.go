package store

import (
	"encoding/json"
	"fmt"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Write is one article of a batch (Store.UpsertArticles) with its content hash and its JSON, which
// the caller computes (NewWrite) on all CPUs rather than on the store's one writer: together they
// are a good share of an import's work.
type Write struct {
	Article syndicate.Article
	Hash    string // Article.Hash()
	Data    []byte // the article as JSON, as stores keep it
}

// NewWrite returns the write of a.
func NewWrite(a syndicate.Article) (Write, error) {
	data, err := json.Marshal(a)
	if err != nil {
		return Write{}, fmt.Errorf("store: encode article %q: %w", a.ID, err)
	}
	return Write{Article: a, Hash: a.Hash(), Data: data}, nil
}

// Upserted is what a batch write did with one article: the outcome, and the channels the
// article was filed in before (none if it was new or deleted).
type Upserted struct {
	Outcome UpsertOutcome
	Before  []string
}
