package storesql

import (
	"context"
	"slices"
	"strings"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// Stored is what a batch write reads of an article already stored, deleted ones included.
type Stored struct {
	Hash     string
	Deleted  bool
	Revision int64
	Channels []string // where it is filed (none once deleted)
}

// ArticleRow is an article row as a batch leaves it.
type ArticleRow struct {
	ID          string
	Seq         int64
	Hash        string
	PublishedAt time.Time
	Data        []byte // the article as JSON
	SafeHash    string // sanitizedHash
	SafePolicy  string
	SafeHTML    *string // SanitizedHTML
	Revision    int64
}

// Filing is an article_channels row.
type Filing struct {
	Channel, ArticleID string
	PublishedAt        time.Time
}

// Slot is an archive_slots row.
type Slot struct {
	Channel   string
	Seq       int64
	ArticleID string
}

// ChannelMark is the channel_marks row a batch leaves: Seq the newest change that touched the
// channel, Filed the newest that filed an article in it or took one out (0 if none did).
type ChannelMark struct {
	Channel    string
	Seq, Filed int64
}

// BatchPlan is every row a batch of upserts writes, worked out from what the store held. Writing
// it has the effects UpsertArticle has when called on each article in turn, with change numbers
// from last+1 up: revisions and change times, filings, archive slots and channel marks.
type BatchPlan struct {
	Results []store.Upserted
	Rows    []ArticleRow // one per article changed, as the batch leaves it
	Unfile  []string     // changed articles whose stored filings are replaced
	Filings []Filing
	Slots   []Slot
	Marks   []ChannelMark
	LastSeq int64
}

// PlanBatch works out the rows a batch writes, given what the store holds of its articles (by
// id, absent when new) and the newest change number handed out. An article appearing twice sees
// its first version as the stored one, as it would if upserted in turn.
func PlanBatch(ws []store.Write, stored map[string]Stored, last int64) BatchPlan {
	p := BatchPlan{Results: make([]store.Upserted, len(ws)), LastSeq: last}
	type state struct {
		Stored
		row   int // index in p.Rows, -1 until changed
		exist bool
	}
	states := make(map[string]*state, len(ws))
	marks := map[string]*ChannelMark{}
	mark := func(c string, seq int64, filed bool) {
		m := marks[c]
		if m == nil {
			m = &ChannelMark{Channel: c}
			marks[c] = m
		}
		m.Seq = seq
		if filed {
			m.Filed = seq
		}
	}
	unfiled := map[string]bool{}
	for i, w := range ws {
		a := &w.Article
		st := states[a.ID]
		if st == nil {
			old, ok := stored[a.ID]
			st = &state{Stored: old, row: -1, exist: ok}
			states[a.ID] = st
		}
		var outcome store.UpsertOutcome
		switch {
		case !st.exist || st.Deleted:
			outcome = store.UpsertCreated
		case st.Hash == w.Hash:
			// Unchanged, sanitised content included: an import sanitises only what it stores anew,
			// and builds sanitise what was stored under an older policy (store.Build.Sanitized).
			p.Results[i] = store.Upserted{Outcome: store.UpsertUnchanged, Before: st.Channels}
			continue
		default:
			outcome = store.UpsertUpdated
		}
		p.LastSeq++
		seq := p.LastSeq
		before := st.Channels
		p.Results[i] = store.Upserted{Outcome: outcome, Before: before}
		revision := int64(1)
		if st.exist {
			revision = st.Revision + 1 // deletions count too (events' data.revision)
		}
		row := ArticleRow{ID: a.ID, Seq: seq, Hash: w.Hash, PublishedAt: a.PublishedAt, Data: w.Data,
			SafeHash: sanitizedHash(w.Hash, a.Sanitized), SafePolicy: a.Sanitized.Policy,
			SafeHTML: store.SanitizedHTML(a.ContentHTML, a.Sanitized), Revision: revision}
		if st.row >= 0 {
			p.Rows[st.row] = row
		} else {
			st.row = len(p.Rows)
			p.Rows = append(p.Rows, row)
		}
		if len(before) > 0 && !unfiled[a.ID] {
			unfiled[a.ID] = true
			p.Unfile = append(p.Unfile, a.ID)
		}
		moved := refiled(before, a.Channels)
		for _, c := range before {
			mark(c, seq, slices.Contains(moved, c))
		}
		for _, c := range a.Channels {
			mark(c, seq, slices.Contains(moved, c))
			if !slices.Contains(before, c) {
				p.Slots = append(p.Slots, Slot{Channel: c, Seq: seq, ArticleID: a.ID})
			}
		}
		st.Stored = Stored{Hash: w.Hash, Revision: revision, Channels: a.Channels}
		st.exist = true
	}
	for _, r := range p.Rows {
		for _, c := range states[r.ID].Channels {
			p.Filings = append(p.Filings, Filing{Channel: c, ArticleID: r.ID, PublishedAt: r.PublishedAt})
		}
	}
	for _, m := range marks {
		p.Marks = append(p.Marks, *m)
	}
	slices.SortFunc(p.Marks, func(a, b ChannelMark) int { return strings.Compare(a.Channel, b.Channel) })
	return p
}

// refiled returns the channels whose filings an article's write changes: those it leaves and
// those it enters, sorted. An article being created (or stored again after deletion) has no
// old channels, and one being deleted no new ones.
func refiled(old, new []string) []string {
	var out []string
	for _, c := range old {
		if !slices.Contains(new, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, c := range new {
		if !slices.Contains(old, c) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// UpsertOne is store.Store.UpsertArticle as a batch of one: upsert is the adapter's
// UpsertArticles, so that one decision tree (PlanBatch) serves both.
func UpsertOne(ctx context.Context, a syndicate.Article, upsert func(context.Context, []store.Write) ([]store.Upserted, error)) (store.UpsertOutcome, error) {
	w, err := store.NewWrite(a)
	if err != nil {
		return 0, err
	}
	res, err := upsert(ctx, []store.Write{w})
	if err != nil {
		return 0, err
	}
	return res[0].Outcome, nil
}
