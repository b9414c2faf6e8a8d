package app_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
)

// The portal's story survives a trip through our own feed: instance A serves it, instance B
// ingests A's feed as an upstream source, in each format.
func TestUpstreamRoundTrip(t *testing.T) {
	a, srvA := newApp(t)
	art := fixture(t)
	if code, body := post(t, srvA, token, art); code != 201 {
		t.Fatalf("POST: %d %s", code, body)
	}
	build(t, a, "lingling")
	var want syndicate.Article
	json.Unmarshal(art, &want)

	for _, format := range syndicate.Formats {
		t.Run(format, func(t *testing.T) {
			post(t, srvA, token, art) // undo the previous subtest's edit
			build(t, a, "lingling")
			dir := t.TempDir()
			cfgFile := filepath.Join(dir, "b.yaml")
			os.WriteFile(cfgFile, []byte(`
ingest: {allow_private: true} # instance A listens on 127.0.0.1
sources:
  - name: instance-a
    url: "`+srvA.URL+`/feeds/lingling.`+format+`"
    channels: [lingling]
    schedule: "@hourly"
`), 0o600)
			cfg, err := config.Load(cfgFile, []string{"SYNDICATE_DATA_DIR=" + dir, "SYNDICATE_NATS_LISTEN=", "SYNDICATE_DEMO=false", "SYNDICATE_ADMIN_TOKEN=x"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close(context.Background())
			run, err := b.Scheduler.RunNow(context.Background(), app.IngestJobName("instance-a"))
			if err != nil || run.Status != "ok" || run.Count != 1 {
				t.Fatalf("ingest run = %+v, %v", run, err)
			}
			items, err := b.Store.NewestItems(context.Background(), []string{"lingling"}, 10)
			if err != nil || len(items) != 1 {
				t.Fatalf("B has %d items, %v", len(items), err)
			}
			got := items[0]
			if got.Title != want.Title || got.Summary != want.Summary {
				t.Errorf("title/summary: %q / %q", got.Title, got.Summary)
			}
			if got.URL != a.Site.ArticleURL(&want) {
				t.Errorf("url %q", got.URL)
			}
			if !slices.Equal(got.Authors, want.Authors) {
				t.Errorf("authors %v, want %v", got.Authors, want.Authors)
			}
			if !got.PublishedAt.Equal(want.PublishedAt) {
				t.Errorf("published %v, want %v", got.PublishedAt, want.PublishedAt)
			}
			for _, part := range []string{"<h3>“疫”声令下显担当</h3>", "860余名市直党员干部下沉零陵", "最终胜利。</p>"} {
				if !strings.Contains(got.ContentHTML, part) {
					t.Errorf("content lacks %q", part)
				}
			}
			// A second poll is conditional and changes nothing.
			if run, err := b.Scheduler.RunNow(context.Background(), app.IngestJobName("instance-a")); err != nil || run.Count != 0 {
				t.Errorf("second poll = %+v, %v", run, err)
			}
			build(t, b, "lingling")

			// An edit upstream becomes an update in B and an .updated event on B's stream.
			edited := want
			edited.Summary = "上游更正:" + format
			body, _ := json.Marshal(edited)
			if code, _ := post(t, srvA, token, body); code != 200 {
				t.Fatalf("edit on A: %d", code)
			}
			build(t, a, "lingling")
			if run, err := b.Scheduler.RunNow(context.Background(), app.IngestJobName("instance-a")); err != nil || run.Count != 1 {
				t.Fatalf("poll after the edit = %+v, %v", run, err)
			}
			build(t, b, "lingling")
			var types []string
			for _, ev := range streamMessages(t, b)["syndicate.items.xianshiqu.lingling"] {
				types = append(types, ev.Type)
			}
			if strings.Join(types, ",") != syndicate.EventPublished+","+syndicate.EventUpdated {
				t.Errorf("B's events %v, want published then updated", types)
			}
		})
	}
}
