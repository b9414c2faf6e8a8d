package storesql

import (
	"context"
	"fmt"
	"slices"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// filing is one row of the fake article_channels.
type filing struct {
	channel string
	Candidate
}

// fakeQueries answers NewestQueries from filings (newest first) and counts its calls.
type fakeQueries struct {
	filings      []filing
	deleted      map[string]bool
	walks, seeks []int // n of each Walk, limit of each Seek
}

func (q *fakeQueries) Walk(_ context.Context, channels []string, budget, _, n int) ([]Candidate, error) {
	q.walks = append(q.walks, n)
	var out []Candidate
	for _, f := range q.filings[:min(budget, len(q.filings))] {
		if len(out) < n && slices.Contains(channels, f.channel) {
			out = append(out, f.Candidate)
		}
	}
	return out, nil
}

func (q *fakeQueries) Seek(_ context.Context, channels []string, limit int) ([]Candidate, error) {
	q.seeks = append(q.seeks, limit)
	var out []Candidate
	for _, c := range channels {
		n := 0
		for _, f := range q.filings {
			if f.channel == c && n < limit {
				out = append(out, f.Candidate)
				n++
			}
		}
	}
	return out, nil
}

// Articles leaves out the deleted articles, and from then on their filings too: the deletion
// committed between the read of the filings and this one, and took the filings with it.
func (q *fakeQueries) Articles(_ context.Context, ids []string) (map[string]syndicate.Article, error) {
	out := map[string]syndicate.Article{}
	for _, id := range ids {
		if !q.deleted[id] {
			out[id] = syndicate.Article{ID: id}
		}
	}
	q.filings = slices.DeleteFunc(slices.Clone(q.filings), func(f filing) bool { return q.deleted[f.ID] })
	return out, nil
}

// TestNewestItemsPaths checks which queries NewestItems runs: the answer is the same whichever
// (storetest checks it on each engine); the cost is not.
func TestNewestItemsPaths(t *testing.T) {
	// Channels c0..c9; article a<i> is published at minute 100-i (a00 newest) in channel c<i%10>,
	// and the five newest are filed in x1..x5 too.
	var filings []filing
	for i := range 100 {
		chans := []string{fmt.Sprintf("c%d", i%10)}
		if i < 5 {
			chans = append(chans, "x1", "x2", "x3", "x4", "x5")
		}
		for _, c := range chans {
			filings = append(filings, filing{c, Candidate{ID: fmt.Sprintf("a%02d", i), Published: int64(100 - i)}})
		}
	}
	all := []string{"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "x1", "x2", "x3", "x4", "x5"}
	tuning := store.Tuning{ManyChannels: 3, WalkFloor: 0, WalkPerItem: 40}
	for _, tc := range []struct {
		name         string
		channels     []string
		limit        int
		tune         func(*store.Tuning)
		deleted      []string
		want         []string
		walks, seeks []int
	}{
		{name: "few channels seek", channels: []string{"c1", "c2"}, limit: 3,
			want: []string{"a01", "a02", "a11"}, seeks: []int{3}},
		{name: "many channels walk", channels: all, limit: 2,
			want: []string{"a00", "a01"}, walks: []int{8}},
		{name: "articles filed six times make the walk read more", channels: all, limit: 6,
			want: []string{"a00", "a01", "a02", "a03", "a04", "a05"}, walks: []int{24, 48}},
		{name: "a quiet subtree exhausts the budget", channels: []string{"c5", "c6", "c7"}, limit: 2,
			tune: func(t *store.Tuning) { t.WalkPerItem = 2 }, want: []string{"a05", "a06"}, walks: []int{4}, seeks: []int{2}},
		{name: "fewer items than the limit", channels: []string{"c5", "c6", "c7"}, limit: 50,
			want: wantIDs(5, 6, 7), walks: []int{200}, seeks: []int{50}},
		{name: "deleted since the walk: read again", channels: all, limit: 2, deleted: []string{"a00"},
			want: []string{"a01", "a02"}, walks: []int{8, 8}},
		{name: "deleted since the seek: read again", channels: []string{"c0"}, limit: 3, deleted: []string{"a10"},
			want: []string{"a00", "a20", "a30"}, seeks: []int{3, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := &fakeQueries{filings: filings, deleted: map[string]bool{}}
			for _, id := range tc.deleted {
				q.deleted[id] = true
			}
			tun := tuning
			if tc.tune != nil {
				tc.tune(&tun)
			}
			items, err := NewestItems(context.Background(), q, tc.channels, tc.limit, tun)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range items {
				got = append(got, a.ID)
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(q.walks, tc.walks) || !slices.Equal(q.seeks, tc.seeks) {
				t.Errorf("got %v with walks %v and seeks %v; want %v, %v, %v", got, q.walks, q.seeks, tc.want, tc.walks, tc.seeks)
			}
		})
	}
}

// wantIDs lists, newest first, every article of the channels c<r> for the residues r.
func wantIDs(residues ...int) []string {
	var out []string
	for i := range 100 {
		if slices.Contains(residues, i%10) {
			out = append(out, fmt.Sprintf("a%02d", i))
		}
	}
	return out
}
