package storesql

import (
	"cmp"
	"context"
	"slices"
	"strings"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// Candidate is a filing that may be among the newest items: an article id and its published_at.
type Candidate struct {
	ID        string
	Published int64 // any monotonic encoding of published_at
}

// NewestQueries are the queries NewestItems runs, in the engine's SQL. Filings are ordered as
// NewestItems orders its answer: published_at descending, then article id.
type NewestQueries interface {
	// Walk returns, in filing order, the filings in channels among the budget newest filings of
	// all channels (one range of the (published_at DESC, article_id) index), up to the n-th of
	// them; it may stop sooner, at the one that makes limit distinct articles.
	Walk(ctx context.Context, channels []string, budget, limit, n int) ([]Candidate, error)
	// Seek returns at least the limit newest distinct articles filed in channels, from at most
	// limit filings of each channel (one seek into the channel's index each): a superset that
	// Newest narrows down.
	Seek(ctx context.Context, channels []string, limit int) ([]Candidate, error)
	// Articles reads the undeleted articles of ids, by id.
	Articles(ctx context.Context, ids []string) (map[string]syndicate.Article, error)
}

// walkRows is how many filings per wanted item the walk reads at first: articles filed in more
// than one of the channels take several.
const walkRows = 4

// NewestItems implements store.Store.NewestItems with q. Over many channels (the site-wide feed,
// a parent of many) it walks the newest filings of all channels and keeps those in the set: a
// few hundred index entries, where a seek into each channel would merge tens of thousands of
// candidates. For a quiet subtree, whose filings are rare among the newest, the walk gives up
// after t.WalkBudget(limit) filings and seeks into each channel, as it does for few channels.
// Only the winners' rows are read.
func NewestItems(ctx context.Context, q NewestQueries, channels []string, limit int, t store.Tuning) ([]syndicate.Article, error) {
	if len(channels) == 0 || limit <= 0 {
		return nil, nil
	}
	for read := 1; ; read++ {
		items, picked, err := newestItems(ctx, q, channels, limit, t)
		if err != nil || len(items) == picked || read == newestReads {
			return items, err
		}
	}
}

// newestReads bounds how often NewestItems reads: an article deleted between the read of the
// filings and the read of the articles leaves the answer short of articles the channels still
// hold, and the reads are made again. So an answer shorter than the limit means the channels hold
// no more (builds then skip reading their archive's last page), unless deletions kept racing
// every read; then the deletions' change numbers make the next build read again.
const newestReads = 3

// newestItems is one read of NewestItems; picked is how many articles the filings named.
func newestItems(ctx context.Context, q NewestQueries, channels []string, limit int, t store.Tuning) ([]syndicate.Article, int, error) {
	var ids []string
	if len(channels) >= t.ManyChannels {
		var err error
		if ids, err = walk(ctx, q, channels, limit, t.WalkBudget(limit)); err != nil {
			return nil, 0, err
		}
	}
	if len(ids) < limit {
		cands, err := q.Seek(ctx, channels, limit)
		if err != nil {
			return nil, 0, err
		}
		ids = newest(cands, limit)
	}
	if len(ids) == 0 {
		return nil, 0, nil
	}
	byID, err := q.Articles(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	out := make([]syndicate.Article, 0, len(ids))
	for _, id := range ids {
		if a, ok := byID[id]; ok { // deleted since the filings were read
			out = append(out, a)
		}
	}
	return out, len(ids), nil
}

// walk returns the limit newest articles of the channels if the newest budget filings of all
// channels hold them, and fewer otherwise: then they may not be the newest (the budget ran out
// before the channels' filings did), and the caller seeks into each channel. It reads walkRows
// filings per item, and twice as many again while articles filed in several of the channels
// leave it short of limit distinct ones.
func walk(ctx context.Context, q NewestQueries, channels []string, limit, budget int) ([]string, error) {
	for n := min(limit*walkRows, budget); ; n = min(2*n, budget) {
		cands, err := q.Walk(ctx, channels, budget, limit, n)
		if err != nil {
			return nil, err
		}
		ids := newest(cands, limit)
		if len(ids) == limit || len(cands) < n || n == budget { // all there is, or all it may read
			return ids, nil
		}
	}
}

// newest merges candidates into the ids of the limit newest distinct articles, newest published
// first, ties by id: the order NewestItems promises.
func newest(cands []Candidate, limit int) []string {
	slices.SortFunc(cands, func(a, b Candidate) int {
		if c := cmp.Compare(b.Published, a.Published); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	seen := make(map[string]bool, min(len(cands), limit))
	ids := make([]string, 0, min(len(cands), limit))
	for _, c := range cands {
		if len(ids) == limit {
			break
		}
		if !seen[c.ID] {
			seen[c.ID] = true
			ids = append(ids, c.ID)
		}
	}
	return ids
}
