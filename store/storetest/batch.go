package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// RunBatch checks that UpsertArticles leaves a store exactly as UpsertArticle on each article in
// turn leaves another: outcomes, articles and their sanitised content, change numbers, revisions,
// channel marks, archive slots and what builds would announce. Run calls it.
func RunBatch(t *testing.T, open Opener) {
	one, batched := open(t), open(t)
	t.Cleanup(func() { one.Close(); batched.Close() })
	ctx := context.Background()

	// Both stores begin with the same history, written one by one.
	for _, s := range []store.Store{one, batched} {
		for _, a := range []syndicate.Article{Article("kept", 0, "lingling"), Article("edited", 1, "lingling"),
			Article("moved", 2, "lingling"), Article("spread", 3, "qiyang"), Article("gone", 4, "lingling", "qiyang"),
			sanitized(Article("resan", 5, "daoxian"), "p1")} {
			if _, err := s.UpsertArticle(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteArticle(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
	}
	edited := Article("edited", 1, "lingling")
	edited.Title = "改过的标题"
	twice := Article("twice", 9, "qiyang")
	twiceEdited := twice
	twiceEdited.Summary = "第二版"
	batches := [][]syndicate.Article{
		{
			Article("kept", 0, "lingling"),                  // unchanged
			edited,                                          // updated in place
			Article("moved", 2, "daoxian"),                  // moved to another channel
			Article("spread", 3, "qiyang", "lingling"),      // filed in one more
			Article("gone", 4, "daoxian"),                   // stored again after deletion
			sanitized(Article("resan", 5, "daoxian"), "p2"), // unchanged, sanitised under another policy
			Article("new", 6, "lingling", "daoxian"),        // created
			twice, twiceEdited, twice,                       // one id three times in one batch
		},
		{edited, Article("moved", 2, "lingling"), sanitized(Article("new", 7, "qiyang"), "p2")},
	}
	for i, batch := range batches {
		var want []store.UpsertOutcome
		for _, a := range batch {
			o, err := one.UpsertArticle(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, o)
		}
		ws := make([]store.Write, len(batch))
		for j, a := range batch {
			ws[j] = write(t, a)
		}
		res, err := batched.UpsertArticles(ctx, ws)
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		var got []store.UpsertOutcome
		for _, r := range res {
			got = append(got, r.Outcome)
		}
		if !slices.Equal(got, want) {
			t.Errorf("batch %d outcomes = %v, want %v", i, got, want)
		}
		if b, o := snapshot(t, batched), snapshot(t, one); !reflect.DeepEqual(b, o) {
			t.Errorf("after batch %d the stores differ:\nbatched:     %v\none by one:  %v", i, b, o)
		}
	}
	moved := Article("moved", 2, "qiyang")
	res, err := batched.UpsertArticles(ctx, []store.Write{write(t, moved)})
	if err != nil || len(res) != 1 || !slices.Equal(res[0].Before, []string{"lingling"}) {
		t.Errorf("UpsertArticles reports before = %+v, %v; want [lingling]", res, err)
	}
	if res, err := batched.UpsertArticles(ctx, nil); err != nil || len(res) != 0 {
		t.Errorf("empty batch = %v, %v", res, err)
	}

	if err := batched.DeleteArticle(ctx, "kept"); err != nil {
		t.Fatal(err)
	}
	hashes, err := batched.ArticleHashes(ctx, []string{"kept", "edited", "missing", "edited"})
	if want := map[string]string{"edited": edited.Hash()}; err != nil || !reflect.DeepEqual(hashes, want) {
		t.Errorf("ArticleHashes = %v, %v; want %v (deleted and missing ones left out)", hashes, err, want)
	}
}

func write(t *testing.T, a syndicate.Article) store.Write {
	w, err := store.NewWrite(a)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func sanitized(a syndicate.Article, policy string) syndicate.Article {
	a.Sanitized = syndicate.Sanitized{Policy: policy, HTML: a.ContentHTML + "<!-- " + policy + " -->"}
	return a
}

// snapshot is what a store shows of its articles, change times left out.
func snapshot(t *testing.T, s store.Store) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	last, err := s.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out["last"] = last
	marks, err := s.ChannelMarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out["marks"] = fmt.Sprint(marks)
	for _, chs := range [][]string{{"lingling"}, {"qiyang"}, {"daoxian"}, {"lingling", "qiyang", "daoxian"}} {
		n, err := s.ArchiveCount(ctx, chs)
		if err != nil {
			t.Fatal(err)
		}
		page, err := s.ArchivePage(ctx, chs, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		var slots []int64
		for i := 1; i <= n; i++ {
			seq, err := s.ArchiveSlot(ctx, chs, i)
			if err != nil {
				t.Fatal(err)
			}
			slots = append(slots, seq)
		}
		newest, err := s.NewestItems(ctx, chs, 100)
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprint("archive ", chs)] = fmt.Sprint(n, slots, describe(page))
		out[fmt.Sprint("newest ", chs)] = describe(newest)
		if len(chs) == 1 {
			changes, upTo, err := changesSince(ctx, s, chs[0], 0)
			if err != nil {
				t.Fatal(err)
			}
			var cs []string
			for _, c := range changes {
				cs = append(cs, fmt.Sprintf("%s %v seq %d rev %d %s deleted %v", c.Article.ID, c.Kind, c.Seq, c.Revision, c.Hash, c.Deleted))
			}
			slices.Sort(cs)
			out[fmt.Sprint("changes ", chs)] = fmt.Sprint(upTo, cs)
		}
	}
	return out
}

func describe(items []syndicate.Article) []string {
	var out []string
	for _, a := range items {
		out = append(out, fmt.Sprintf("%s %q %v %s %+v", a.ID, a.Title, a.Channels, a.StoredHash, a.Sanitized))
	}
	return out
}
