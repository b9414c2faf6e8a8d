package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// 1,000 articles across 10 channels: one event each, no duplicate ids; deleting one through the
// API gives a .removed event carrying the same item id as its .published one.
func TestThousandArticlesAndRemoval(t *testing.T) {
	a, srv := newApp(t)
	ctx := context.Background()
	slugs := []string{"lingling", "qiyang", "shuangpai", "dongan", "daoxian", "jiangyong", "jianghua", "ningyuan", "xintian", "lanshan"}
	for i := range 1000 {
		art := storetest.Article(fmt.Sprintf("bulk-%04d", i), i, slugs[i%10])
		if _, err := a.Store.UpsertArticle(ctx, art); err != nil {
			t.Fatal(err)
		}
	}
	build(t, a, slugs...)
	msgs := streamMessages(t, a)
	ids, items := map[string]bool{}, map[string]string{}
	total := 0
	for subj, evs := range msgs {
		if len(evs) != 100 {
			t.Errorf("%s: %d events, want 100", subj, len(evs))
		}
		for _, ev := range evs {
			total++
			if ids[ev.ID] {
				t.Fatalf("duplicate event id %s", ev.ID)
			}
			ids[ev.ID] = true
			items[ev.Data.ArticleID] = ev.Data.ItemID
		}
	}
	if total != 1000 || len(items) != 1000 {
		t.Fatalf("%d events for %d articles, want 1000 and 1000", total, len(items))
	}

	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/api/articles/bulk-0007", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE: %d, want 204", resp.StatusCode)
	}
	resp.Body.Close()
	build(t, a, slugs...)
	evs := streamMessages(t, a)["syndicate.items."+strings.Join(a.Tree.Path("ningyuan"), ".")]
	last := evs[len(evs)-1]
	if len(evs) != 101 || last.Type != syndicate.EventRemoved || last.Data.ItemID != items["bulk-0007"] {
		t.Errorf("after DELETE: %d events, last %s %s; want a .removed for %s", len(evs), last.Type, last.Data.ItemID, items["bulk-0007"])
	}
}
