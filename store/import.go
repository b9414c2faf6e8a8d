package store

import (
	"context"
	"fmt"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
)

// ImportReport says what an import did with each record.
type ImportReport struct {
	Created   int         `json:"created"`
	Updated   int         `json:"updated"`
	Unchanged int         `json:"unchanged"`
	Rejected  []Rejection `json:"rejected"`
	// Channels lists the channels whose articles changed, for callers that rebuild at once.
	Channels []string `json:"-"`
}

// Rejection is one record that was not stored, and why.
type Rejection struct {
	Index int    `json:"index"` // position in the input, from 0
	ID    string `json:"id,omitempty"`
	Error string `json:"error"`
	Err   error  `json:"-"`
}

// Import validates and stores decoded records one by one. A bad record is rejected without
// stopping the others; a store failure stops the import and is returned with the report of what
// was stored until then, so nothing is lost silently.
func Import(ctx context.Context, s Store, tree *syndicate.Tree, records []syndicate.DecodeResult) (ImportReport, error) {
	rep := ImportReport{Rejected: []Rejection{}}
	touched := map[string]bool{}
	for _, rec := range records {
		a := rec.Article
		err := rec.Err
		if err == nil {
			a.Normalize()
			err = a.Validate(tree.Has)
		}
		if err != nil {
			rep.Rejected = append(rep.Rejected, Rejection{Index: rec.Index, ID: a.ID, Error: err.Error(), Err: err})
			continue
		}
		var before []string
		old, err := s.Article(ctx, a.ID)
		if err == nil {
			before = old.Channels
		}
		if err != nil || old.Hash() != a.Hash() {
			// Once here, not in every build that renders it; not at all for the unchanged
			// records an upstream poll brings again and again.
			a.Sanitized = sanitize.HTML(a.ContentHTML)
		}
		outcome, err := s.UpsertArticle(ctx, a)
		if err != nil {
			return rep, fmt.Errorf("store: import record %d (%q): %w", rec.Index, a.ID, err)
		}
		switch outcome {
		case UpsertCreated:
			rep.Created++
		case UpsertUpdated:
			rep.Updated++
		case UpsertUnchanged:
			rep.Unchanged++
			continue
		}
		for _, c := range append(before, a.Channels...) {
			if !touched[c] {
				touched[c] = true
				rep.Channels = append(rep.Channels, c)
			}
		}
	}
	return rep, nil
}
