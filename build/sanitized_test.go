package build_test

import (
	"context"
	"os"
	"slices"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/sanitize"
)

// TestSanitizedAtImportRendersTheSameBytes builds the portal's story from a store that
// sanitised it at import and from one that never did (written by an older version): replicas
// must serve the same bytes, whichever store they read.
func TestSanitizedAtImportRendersTheSameBytes(t *testing.T) {
	raw, err := os.ReadFile("../demo/lingling-article.json")
	if err != nil {
		t.Fatal(err)
	}
	story, err := syndicate.DecodeArticle(raw)
	if err != nil {
		t.Fatal(err)
	}
	story.Channels = []string{"lingling"}
	// Something for the policy to remove, and a relative link for the renderer to resolve.
	story.ContentHTML += `<script>alert(1)</script><p><a href="/channels/lingling" onclick="x()">零陵</a></p>`

	// And the story as the portal's CMS writes it: clean HTML, which the policy leaves as it is
	// and the store keeps once (sanitized_html NULL).
	clean, err := syndicate.DecodeArticle(raw)
	if err != nil {
		t.Fatal(err)
	}
	clean.ID, clean.Channels = "clean", []string{"qiyang"}
	if sanitize.HTML(clean.ContentHTML).HTML != clean.ContentHTML {
		t.Fatal("the policy changes the portal's story: this test no longer covers clean content")
	}
	stories := []syndicate.Article{story, clean}

	imported, st1 := newBuilder(t)
	rep, err := ingest.Import(context.Background(), st1, imported.Tree, []syndicate.DecodeResult{{Article: story}, {Index: 1, Article: clean}})
	if err != nil || rep.Created != 2 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	items, err := st1.NewestItems(context.Background(), []string{"lingling", "qiyang"}, 2)
	if err != nil || len(items) != 2 {
		t.Fatalf("NewestItems = %v, %v", items, err)
	}
	for _, a := range items {
		if a.Sanitized.Policy != sanitize.Policy {
			t.Fatalf("imported article %s carries no sanitised content", a.ID)
		}
	}
	older, st2 := newBuilder(t)
	for _, a := range stories {
		a.Normalize()
		upsert(t, st2, a)
	}

	compare := func(step string) {
		t.Helper()
		for _, slug := range []string{"lingling", "qiyang", "xianshiqu"} {
			a, b := mustBuild(t, imported, slug), mustBuild(t, older, slug)
			if !a.Rendered || !b.Rendered || len(a.Documents) != len(b.Documents) {
				t.Fatalf("%s, %s: rendered %v and %v", step, slug, a.Rendered, b.Rendered)
			}
			for i := range a.Documents {
				da, db := a.Documents[i], b.Documents[i]
				if da.ETag != db.ETag || !slices.Equal(da.Body, db.Body) {
					t.Errorf("%s: %s.%s differs between the stores:\n%.400s\n%.400s", step, slug, da.Format, da.Body, db.Body)
				}
			}
		}
	}
	compare("first build")
	// The first build of the older store sanitised the stories and saved the results.
	items, err = st2.NewestItems(context.Background(), []string{"lingling", "qiyang"}, 2)
	if err != nil || len(items) != 2 {
		t.Fatalf("NewestItems = %v, %v", items, err)
	}
	for _, a := range items {
		if a.Sanitized != sanitize.HTML(a.ContentHTML) {
			t.Fatalf("a build left the older store's article %s unsanitised: %+v", a.ID, a.Sanitized)
		}
	}
	// A change of configuration re-renders both from the saved results.
	imported.Site.Description, older.Site.Description = "改版", "改版"
	compare("after a configuration change")
}
