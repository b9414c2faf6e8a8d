package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"unicode/utf8"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
)

// ImportReport says what an import did with each record. It stays small whatever the input:
// Rejected lists only the first Limits.MaxRejections rejections, RejectedCount counts them all.
type ImportReport struct {
	Records       int         `json:"records"`
	Created       int         `json:"created"`
	Updated       int         `json:"updated"`
	Unchanged     int         `json:"unchanged"`
	RejectedCount int         `json:"rejected_count"`
	Rejected      []Rejection `json:"rejected"`
	// Error says why the import stopped before the end of its input, when it did.
	Error string `json:"error,omitempty"`
	// Channels lists the channels whose articles changed, for callers that rebuild at once.
	Channels []string `json:"-"`
}

// Rejection is one record that was not stored, and why.
type Rejection struct {
	Index int    `json:"index"` // position in the input, from 0
	ID    string `json:"id,omitempty"`
	Field string `json:"field,omitempty"`
	Error string `json:"error"` // safe to show to a client
	Err   error  `json:"-"`     // the whole error, internal details included
}

// Import validates and stores records with the default limits; see ImportRecords.
func Import(ctx context.Context, s Store, tree *syndicate.Tree, records []syndicate.DecodeResult) (ImportReport, error) {
	return ImportRecords(ctx, s, tree, syndicate.DefaultLimits(), slices.Values(records))
}

// ImportRecords validates and stores records one by one as they come, so a body is never held
// whole. A record that is invalid, or that the store refuses (a constraint, a value the
// database cannot hold), is rejected without stopping the others. Only a store that fails as a
// whole (the context is done, or it no longer answers a ping) stops the import: the error is
// returned with the report of what was stored until then, so nothing is lost silently.
func ImportRecords(ctx context.Context, s Store, tree *syndicate.Tree, lim syndicate.Limits, records iter.Seq[syndicate.DecodeResult]) (ImportReport, error) {
	rep := ImportReport{Rejected: []Rejection{}}
	maxListed := lim.Rejections()
	reject := func(index int, id string, err error) {
		rep.RejectedCount++
		if len(rep.Rejected) < maxListed {
			r := Rejection{Index: index, ID: shorten(id), Error: syndicate.ErrorMessage(err), Err: err}
			var e *syndicate.Error
			if errors.As(err, &e) {
				r.Field = e.Field
			} else {
				r.Error = "could not be stored: internal error"
			}
			rep.Rejected = append(rep.Rejected, r)
		}
	}
	touched := map[string]bool{}
	for rec := range records {
		rep.Records++
		a := rec.Article
		err := rec.Err
		if err == nil {
			a.Normalize()
			err = a.Validate(tree.Has, lim)
		}
		if err != nil {
			reject(rec.Index, a.ID, err)
			continue
		}
		outcome, before, err := upsert(ctx, s, a)
		if err != nil {
			if down := storeDown(ctx, s); down != nil {
				err = fmt.Errorf("store: import record %d (%q): %w (store unavailable: %v)", rec.Index, a.ID, err, down)
				rep.Error = fmt.Sprintf("the store failed at record %d; the records before it are reported, the rest were not read", rec.Index)
				return rep, err
			}
			reject(rec.Index, a.ID, fmt.Errorf("store: import record %d (%q): %w", rec.Index, a.ID, err))
			continue
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

// upsert stores one valid article and returns the channels it was filed in before.
func upsert(ctx context.Context, s Store, a syndicate.Article) (UpsertOutcome, []string, error) {
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
	return outcome, before, err
}

// storeDown tells a store that cannot take any record from one that refused this record.
func storeDown(ctx context.Context, s Store) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Ping(ctx)
}

// shorten keeps an over-long id (rejected for its length) from filling the report; it cuts on
// a rune boundary.
func shorten(id string) string {
	n := syndicate.MaxArticleIDLen
	if len(id) <= n {
		return id
	}
	for n > 0 && !utf8.RuneStart(id[n]) {
		n--
	}
	return id[:n] + "…"
}
