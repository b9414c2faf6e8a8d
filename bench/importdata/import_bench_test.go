package importdata_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/bench/importdata"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// benchRecords is how many articles one benchmark operation imports: the backfill of issue #16.
const benchRecords = 100_000

var benchChannels = []string{"lingling", "qiyang", "shuangpai", "dongan", "daoxian", "jiangyong", "jianghua", "ningyuan"}

func benchTree(b *testing.B) *syndicate.Tree {
	cfg, err := config.Load("", nil) // the default tree; the harness's SYNDICATE_BENCH_* variables are no settings
	if err != nil {
		b.Fatal(err)
	}
	tree, err := cfg.Tree()
	if err != nil {
		b.Fatal(err)
	}
	return tree
}

// BenchmarkImport decodes, validates, sanitises and stores 100,000 small articles in 8 channels
// into an empty store, as `syndicate import` does; it reports articles per second.
func BenchmarkImport(b *testing.B) {
	tree := benchTree(b)
	for _, engine := range []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"sqlite", func(b *testing.B) store.Store {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "s.db"))
			if err != nil {
				b.Fatal(err)
			}
			st.ForgetPages()
			return st
		}},
		{"postgres", func(b *testing.B) store.Store { return postgrestest.Open(b) }},
	} {
		b.Run(engine.name, func(b *testing.B) {
			if engine.name == "postgres" {
				postgrestest.DSN(b)
			}
			spec := importdata.Spec{N: benchRecords, Channels: benchChannels}
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				st := engine.open(b)
				b.StartTimer()
				start := time.Now()
				im := ingest.Importer{Store: st, Tree: tree, Limits: syndicate.DefaultLimits()}
				rep, err := im.Import(context.Background(), syndicate.NewDecoder(spec.Reader(), im.Limits).Records())
				took += time.Since(start)
				if err != nil || rep.Created != spec.N {
					b.Fatalf("import: %+v, %v", rep, err)
				}
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.N*spec.N)/took.Seconds(), "articles/s")
		})
	}
}

// BenchmarkPostArticles sends 100,000 articles to POST /api/articles in JSON Lines bodies of
// 10,000 records each, one after the other, into an empty SQLite store; it reports articles per
// second.
func BenchmarkPostArticles(b *testing.B) {
	tree := benchTree(b)
	const perBody = 10_000
	for b.Loop() {
		b.StopTimer()
		st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "s.db"))
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(web.New(web.Options{Store: st, Tree: tree, Tokens: []string{"bench"},
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
		b.StartTimer()
		for from := 0; from < benchRecords; from += perBody {
			body := &bodyReader{spec: importdata.Spec{N: from + perBody, Channels: benchChannels}, next: from}
			req, _ := http.NewRequest("POST", srv.URL+"/api/articles", body)
			req.Header.Set("Authorization", "Bearer bench")
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				b.Fatalf("POST records %d+: %s", from, resp.Status)
			}
		}
		b.StopTimer()
		srv.Close()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*benchRecords)/b.Elapsed().Seconds(), "articles/s")
}

// bodyReader is records next up to spec.N, generated as the client sends them.
type bodyReader struct {
	spec importdata.Spec
	next int
	buf  []byte
}

func (r *bodyReader) Read(p []byte) (int, error) {
	for len(r.buf) < len(p) && r.next < r.spec.N {
		r.buf = r.spec.Record(r.buf, r.next)
		r.next++
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
