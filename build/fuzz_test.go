package build_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// FuzzImportBuildRender drives arbitrary request bodies through the whole path an article takes:
// the API's decoder, validation and import into a real SQLite store, then a build of every
// channel and of the site-wide feed. Whatever the bytes, nothing may panic, no build may fail,
// and every document must be well-formed XML or JSON that gofeed reads, and every event valid
// JSON. `make test` runs the seeds: the portal's story, the adversarial corpus and a few odd
// bodies; `go test -fuzz FuzzImportBuildRender ./build/` explores further.
func FuzzImportBuildRender(f *testing.F) {
	story, err := os.ReadFile("../testdata/adversarial/records.jsonl")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(story))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		f.Add(append([]byte(nil), sc.Bytes()...))
	}
	f.Add(story)
	lingling, err := os.ReadFile("../demo/lingling-article.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(lingling)
	for _, s := range []string{
		`[{"id":"a","channels":["lingling"],"title":"&lt;script&gt;x","published_at":"2022-11-16T08:00:00+08:00"}]`,
		`{"id":"b","channels":["xianshiqu","qiyang"],"title":"\u0000\u0008","summary":"]]>","published_at":"2022-11-16T08:00:00Z"}`,
		`{"id":"c","channels":["qiyang"],"title":"t","content_html":"<img alt=\"零陵，（摄影）\" src=x onerror=alert(1)>","published_at":"1901-01-01T00:00:00Z"}`,
		"{\"id\":\"d\",\"channels\":[\"lingling\"],\"title\":\"\xff\xfe\",\"published_at\":\"2022-11-16T08:00:00Z\"}",
		`[{}, {"id":"e"}, 1, "x", null, [], {"id":"f","channels":["lingling"],"title":"t","published_at":"2022-11-16T08:00:00Z","authors":["<b>","&amp;lt;i&amp;gt;"]}]`,
		"\n\n{\"id\":\"g\"}\n{",
	} {
		f.Add([]byte(s))
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	tree, err := syndicate.NewTree([]syndicate.Channel{
		{Slug: "xianshiqu", Title: "县市区", Schedule: "*/10 * * * *", Limit: 5},
		{Slug: "lingling", Title: "零陵", Parent: "xianshiqu", Schedule: "*/10 * * * *", Limit: 5},
		{Slug: "qiyang", Title: "祁阳", Parent: "xianshiqu", Schedule: "@hourly", Limit: 5},
	})
	if err != nil {
		f.Fatal(err)
	}
	b := &build.Builder{
		Store: st, Tree: tree, SubjectPrefix: "syndicate",
		Site:         syndicate.Site{Title: "红网永州站", BaseURL: "http://localhost:8080", Language: "zh-CN", Timezone: "Asia/Shanghai", TagDate: "2026"},
		SiteSchedule: "*/5 * * * *", SiteLimit: 10,
	}
	slugs := append(tree.Slugs(), syndicate.SiteFeed)

	f.Fuzz(func(t *testing.T, body []byte) {
		ctx := context.Background()
		lim := syndicate.DefaultLimits()
		if _, err := ingest.ImportRecords(ctx, st, tree, lim, syndicate.NewDecoder(bytes.NewReader(body), lim).Records()); err != nil {
			t.Fatalf("import: %v", err) // only a store that is down may fail an import
		}
		for _, slug := range slugs {
			res, err := b.Build(ctx, slug)
			if err != nil {
				t.Fatalf("build %s: %v", slug, err)
			}
			for _, d := range res.Documents {
				checkDocument(t, slug, d)
			}
		}
		rows, err := st.PendingEvents(ctx, 10000)
		if err != nil {
			t.Fatal(err)
		}
		seqs := make([]int64, 0, len(rows))
		for _, r := range rows {
			var ev syndicate.CloudEvent
			if err := json.Unmarshal(r.Payload, &ev); err != nil {
				t.Fatalf("event %s is not valid JSON: %v", r.EventID, err)
			}
			if len(r.Payload) > 64<<10 {
				t.Fatalf("event %s is %d bytes", r.EventID, len(r.Payload))
			}
			seqs = append(seqs, r.Seq)
		}
		if err := st.MarkSent(ctx, seqs, time.Now()); err != nil {
			t.Fatal(err)
		}
	})
}

// checkDocument fails t unless d is well-formed and gofeed reads it.
func checkDocument(t *testing.T, slug string, d syndicate.Document) {
	t.Helper()
	body := d.Body
	if len(body) == 0 && d.Gzip != nil {
		var err error
		if body, err = syndicate.Gunzip(d.Gzip, 0); err != nil {
			t.Fatalf("%s.%s: %v", slug, d.Format, err)
		}
	}
	if d.Format == "json" {
		if !json.Valid(body) {
			t.Fatalf("%s.json is not valid JSON:\n%s", slug, body)
		}
	} else {
		dec := xml.NewDecoder(bytes.NewReader(body))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s.%s is not well-formed XML: %v\n%s", slug, d.Format, err, body)
			}
		}
	}
	if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err != nil {
		t.Fatalf("gofeed cannot read %s.%s: %v", slug, d.Format, err)
	}
}
