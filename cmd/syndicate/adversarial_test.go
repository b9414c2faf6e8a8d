package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// corpusRecord is one record of the adversarial corpus and what must become of it: "store", or
// the field a rejection names.
type corpusRecord struct {
	line   []byte
	expect string
}

// expectPattern finds "_expect" in any line, even one that is not a JSON object.
var expectPattern = regexp.MustCompile(`_expect\\?"\s*:\s*\\?"(\w+)`)

// adversarialCorpus reads ../../testdata/adversarial/records.jsonl and adds the cases a file
// cannot hold: dates relative to now (the future horizon) and fields too large to commit.
func adversarialCorpus(t *testing.T) []corpusRecord {
	t.Helper()
	data, err := os.ReadFile("../../testdata/adversarial/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var recs []corpusRecord
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		m := expectPattern.FindSubmatch(line)
		if m == nil {
			t.Fatalf("corpus line without _expect: %.100s", line)
		}
		recs = append(recs, corpusRecord{line, string(m[1])})
	}
	now := time.Now()
	gen := func(expect string, fields map[string]any) {
		a := map[string]any{"_expect": expect, "id": fmt.Sprintf("gen-%03d", len(recs)), "channels": []string{"qiyang"},
			"title": "祁阳", "published_at": now.Add(-time.Hour).Format(time.RFC3339)}
		for k, v := range fields {
			a[k] = v
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, corpusRecord{b, expect})
	}
	gen("store", map[string]any{"published_at": now.Add(time.Hour).Format(time.RFC3339)})
	gen("store", map[string]any{"published_at": now.Add(23 * time.Hour).In(time.FixedZone("", 14*3600)).Format(time.RFC3339)})
	gen("published_at", map[string]any{"published_at": now.Add(25 * time.Hour).In(time.FixedZone("", -12*3600)).Format(time.RFC3339)})
	gen("updated_at", map[string]any{"updated_at": now.Add(25 * time.Hour).Format(time.RFC3339)})
	gen("store", map[string]any{"content_html": "<p>" + strings.Repeat("零", (2<<20-7)/3) + "</p>"})
	gen("content_html", map[string]any{"content_html": strings.Repeat("x", 2<<20+1)})
	gen("body", map[string]any{"summary": strings.Repeat("<", 1_500_000)}) // 9 MB as \u003c: past max_record_bytes
	return recs
}

// TestAdversarialCorpus sends the corpus through every door (the HTTP API, record by record and
// as one batch, and `syndicate import`): each record is stored or rejected naming the field the
// corpus expects. Then every channel and the site-wide feed are built from what was stored, and
// every feed must parse with gofeed and, when installed, feedparser.
func TestAdversarialCorpus(t *testing.T) {
	recs := adversarialCorpus(t)
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv("SYNDICATE_DATA_DIR", dir)
	cfg, err := config.Load("", []string{"SYNDICATE_DATA_DIR=" + dir})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := cfg.Tree()
	if err != nil {
		t.Fatal(err)
	}
	// The helpers take the subtest's t: t.Fatal on the parent's from a subtest's goroutine would
	// not stop the subtest.
	newAPI := func(t *testing.T, name string) (*httptest.Server, *sqlite.DB) {
		t.Helper()
		st, err := sqlite.Open(ctx, filepath.Join(dir, name+".db"))
		if err != nil {
			t.Fatal(err)
		}
		s := web.New(web.Options{Store: st, Tree: tree, Site: cfg.SiteInfo(), Tokens: []string{"tok"},
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Limits: cfg.Limits.Article()})
		srv := httptest.NewServer(s.Handler())
		t.Cleanup(func() { srv.Close(); st.Close() })
		return srv, st
	}
	post := func(t *testing.T, srv *httptest.Server, body []byte, contentType string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/articles", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	t.Run("API record by record", func(t *testing.T) {
		srv, st := newAPI(t, "single")
		for i, r := range recs {
			code, body := post(t, srv, r.line, "application/json")
			var e struct{ Error, Field string }
			json.Unmarshal(body, &e)
			switch {
			case r.expect == "store" && code != http.StatusCreated:
				t.Errorf("record %d (%.80s): %d %s; want 201", i, r.line, code, body)
			case r.expect != "store" && (code != http.StatusBadRequest || e.Field != r.expect || !strings.Contains(e.Error, r.expect)):
				t.Errorf("record %d (%.80s): %d %.300s; want 400 naming %q", i, r.line, code, body, r.expect)
			}
		}
		checkFeeds(t, st, cfg, tree)
	})

	t.Run("API batch", func(t *testing.T) {
		srv, st := newAPI(t, "batch")
		var body []byte
		for _, r := range recs {
			body = append(append(body, r.line...), '\n')
		}
		code, out := post(t, srv, body, "application/x-ndjson")
		var rep ingest.ImportReport
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("%d %.500s: %v", code, out, err)
		}
		if code != http.StatusMultiStatus || len(out) > 64<<10 {
			t.Errorf("batch: %d, %d-byte answer; want 207 and a small report", code, len(out))
		}
		checkReport(t, recs, rep)
		checkFeeds(t, st, cfg, tree)
	})

	t.Run("syndicate import", func(t *testing.T) {
		file := filepath.Join(dir, "corpus.jsonl")
		var body []byte
		for _, r := range recs {
			body = append(append(body, r.line...), '\n')
		}
		if err := os.WriteFile(file, body, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if code := run(ctx, []string{"import", "--json", file}, nil, &out, &errOut); code != 1 {
			t.Errorf("exit %d with rejected records, want 1 (%s)", code, errOut.String())
		}
		var rep ingest.ImportReport
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%.500s: %v", out.String(), err)
		}
		checkReport(t, recs, rep)
		st, err := sqlite.Open(ctx, filepath.Join(dir, "syndicate.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		checkFeeds(t, st, cfg, tree)
	})
}

// checkReport matches a batch's report with the corpus: the records expected to be stored were
// created, and each rejection names the expected field.
func checkReport(t *testing.T, recs []corpusRecord, rep ingest.ImportReport) {
	t.Helper()
	want := 0
	rejected := map[int]ingest.Rejection{}
	for _, rj := range rep.Rejected {
		rejected[rj.Index] = rj
	}
	for i, r := range recs {
		rj, isRejected := rejected[i]
		switch {
		case r.expect == "store":
			want++
			if isRejected {
				t.Errorf("record %d (%.80s) rejected: %s", i, r.line, rj.Error)
			}
		case !isRejected:
			t.Errorf("record %d (%.80s) not rejected; want %q named", i, r.line, r.expect)
		case rj.Field != r.expect:
			t.Errorf("record %d (%.80s) rejected naming %q (%s); want %q", i, r.line, rj.Field, rj.Error, r.expect)
		}
	}
	if rep.Created != want || rep.RejectedCount != len(recs)-want || rep.Records != len(recs) {
		t.Errorf("report: %d records, %d created, %d rejected; want %d, %d, %d", rep.Records, rep.Created, rep.RejectedCount, len(recs), want, len(recs)-want)
	}
}

// liveMarkup finds a tag a reader would run or render in text that is meant to be plain.
var liveMarkup = regexp.MustCompile(`(?i)<\s*/?\s*(script|img|iframe)\b`)

// checkFeeds builds every channel and the site-wide feed from st and parses every document.
func checkFeeds(t *testing.T, st store.Store, cfg *config.Config, tree *syndicate.Tree) {
	t.Helper()
	b := &build.Builder{Store: st, Site: cfg.SiteInfo(), Tree: tree, SubjectPrefix: "syndicate", SiteSchedule: "@hourly", SiteLimit: 200}
	dir := t.TempDir()
	var files []string
	var markup []string
	for _, slug := range append(tree.Slugs(), syndicate.SiteFeed) {
		res, err := b.Build(context.Background(), slug)
		if err != nil {
			t.Fatalf("build %s: %v", slug, err)
		}
		for _, d := range res.Documents {
			body := d.Body
			if len(body) == 0 && d.Gzip != nil {
				if body, err = syndicate.Gunzip(d.Gzip, 0); err != nil {
					t.Fatal(err)
				}
			}
			f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
			if err != nil {
				t.Errorf("gofeed cannot parse %s.%s: %v", slug, d.Format, err)
				continue
			}
			for _, it := range f.Items {
				texts := append([]string{it.Title, it.Description}, it.Categories...)
				for _, p := range it.Authors {
					texts = append(texts, p.Name)
				}
				for _, text := range texts {
					if liveMarkup.MatchString(text) {
						markup = append(markup, fmt.Sprintf("%s.%s %s: %.80q", slug, d.Format, it.GUID, text))
					}
				}
			}
			name := filepath.Join(dir, slug+"."+d.Format)
			if err := os.WriteFile(name, body, 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, name)
		}
	}
	if len(files) == 0 {
		t.Fatal("no feed built")
	}
	feedparserCheck(t, files)
	if len(markup) > 0 {
		// Titles, authors and categories are plain text: no reader may find a tag in them.
		t.Errorf("live markup in plain-text fields: %s", strings.Join(markup[:min(len(markup), 5)], "; "))
	}
}

const feedparserScript = `
import json, sys
import feedparser
out = []
for path in sys.argv[1:]:
    if path.endswith(".json"):
        continue  # Debian's feedparser 6.0 reads no JSON Feed; gofeed checked those
    d = feedparser.parse(path)
    out.append({"path": path, "bozo": int(d.bozo), "error": str(d.get("bozo_exception", "")), "entries": len(d.entries)})
print(json.dumps(out))
`

// feedparserCheck parses the RSS and Atom files with the Universal Feed Parser when Debian's
// python3-feedparser is installed: none may be flagged bozo (not well-formed).
func feedparserCheck(t *testing.T, files []string) {
	t.Helper()
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import feedparser").Run(); err != nil {
		t.Logf("feedparser not available (%v): apt-get install python3-feedparser", err)
		return
	}
	out, err := exec.Command(python, append([]string{"-c", feedparserScript}, files...)...).Output()
	if err != nil {
		t.Fatalf("feedparser: %v", err)
	}
	var results []struct {
		Path, Error string
		Bozo        int
		Entries     int
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("feedparser output %.300s: %v", out, err)
	}
	for _, r := range results {
		if r.Bozo != 0 {
			t.Errorf("feedparser: %s is not well-formed: %s", filepath.Base(r.Path), r.Error)
		}
	}
}
