package ingest

import (
	"errors"

	syndicate "github.com/yongzhou-news/syndicate"
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

// reject records a rejection; the report lists the first max of them.
func (rep *ImportReport) reject(index int, id string, err error, max int) {
	rep.RejectedCount++
	if len(rep.Rejected) >= max {
		return
	}
	// Shorten keeps an over-long id (rejected for its length) from filling the report.
	r := Rejection{Index: index, ID: syndicate.Shorten(id, syndicate.MaxArticleIDLen), Error: syndicate.ErrorMessage(err), Err: err}
	var e *syndicate.Error
	if errors.As(err, &e) {
		r.Field = e.Field
	} else {
		r.Error = "could not be stored: internal error"
	}
	rep.Rejected = append(rep.Rejected, r)
}
