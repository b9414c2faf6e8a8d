package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/bench/importdata"
	"github.com/yongzhou-news/syndicate/build"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// TestMain lets a test run the command in a process of its own, to kill it: the test binary
// started with SYNDICATE_TEST_MAIN=1 is syndicate.
func TestMain(m *testing.M) {
	if os.Getenv("SYNDICATE_TEST_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// bulkChannels are the eight channels generated imports file articles in.
var bulkChannels = []string{"lingling", "qiyang", "shuangpai", "dongan", "daoxian", "jiangyong", "jianghua", "ningyuan"}

// writeInput writes a generated import file and returns its path.
func writeInput(t *testing.T, dir string, spec importdata.Spec) string {
	t.Helper()
	path := filepath.Join(dir, "in.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spec.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// importJSON runs `syndicate import --json` and returns its report.
func importJSON(t *testing.T, args ...string) ingest.ImportReport {
	t.Helper()
	var out, errOut bytes.Buffer
	run(context.Background(), append([]string{"import", "--json", "--quiet"}, args...), nil, &out, &errOut)
	var rep ingest.ImportReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report %q (stderr %q): %v", out.String(), errOut.String(), err)
	}
	return rep
}

// buildAll builds every channel and the site-wide feed, as the service's jobs do, and returns
// the number of published events of each article in each channel in the whole outbox.
func buildAll(t *testing.T, st store.Store) map[[2]string]int {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load("", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := cfg.Tree()
	if err != nil {
		t.Fatal(err)
	}
	b := &build.Builder{Store: st, Site: cfg.SiteInfo(), Tree: tree, SubjectPrefix: cfg.NATS.SubjectPrefix,
		SiteSchedule: cfg.Defaults.Schedule, SiteLimit: cfg.Defaults.Limit}
	for _, slug := range append(tree.Slugs(), syndicate.SiteFeed) {
		if _, err := b.Build(ctx, slug); err != nil {
			t.Fatalf("build %s: %v", slug, err)
		}
	}
	rows, err := st.PendingEvents(ctx, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	published := map[[2]string]int{}
	for _, r := range rows {
		var ev syndicate.CloudEvent
		if err := json.Unmarshal(r.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == syndicate.EventPublished {
			published[[2]string{ev.Data.ArticleID, ev.Data.Channel}]++
		}
	}
	return published
}

// wantPublishedOnce checks that every good record of spec has exactly one published event, in its
// channel, and nothing else has one.
func wantPublishedOnce(t *testing.T, published map[[2]string]int, spec importdata.Spec, skip ...string) {
	t.Helper()
	want := 0
	for i := range spec.N {
		if (spec.Bad != nil && spec.Bad(i)) || slices.Contains(skip, importdata.ID(i)) {
			continue
		}
		want++
		if n := published[[2]string{importdata.ID(i), spec.Channels[i%len(spec.Channels)]}]; n != 1 {
			t.Fatalf("%s has %d published events in %s, want 1", importdata.ID(i), n, spec.Channels[i%len(spec.Channels)])
		}
	}
	if len(published) != want {
		t.Errorf("published events for %d articles and channels, want %d", len(published), want)
	}
}

// changeState sums what any write to an article changes, to tell that nothing was written.
func changeState(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, seq, rev, changed int64
	if err := db.QueryRow(`SELECT count(*), coalesce(max(seq), 0), coalesce(sum(revision), 0), coalesce(sum(changed_at), 0) FROM articles`).Scan(&n, &seq, &rev, &changed); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d articles, last change %d, revisions %d, change times %d", n, seq, rev, changed)
}

// TestImportBatchesRejectOnlyBadRecords imports a generated file in batches of 10 with bad
// records first, in the middle and last in a batch, a whole batch of bad ones, and one the
// database refuses (its batch is stored again record by record): the report's counts are what
// the store holds, and builds publish each stored article once. The same file imported again is
// all unchanged, writes nothing and makes no events.
func TestImportBatchesRejectOnlyBadRecords(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SYNDICATE_DATA_DIR", dir)
	dbPath := filepath.Join(dir, "syndicate.db")
	st, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	refused := importdata.ID(55)
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.id = '` + refused + `'
		BEGIN SELECT RAISE(ABORT, 'refused by a constraint'); END`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	bad := func(i int) bool { return i == 0 || i == 15 || i == 29 || i >= 30 && i < 40 || i == 99 }
	spec := importdata.Spec{N: 100, Channels: bulkChannels, Bad: bad}
	nBad := 0
	for i := range spec.N {
		if bad(i) {
			nBad++
		}
	}
	file := writeInput(t, dir, spec)
	rep := importJSON(t, "--batch", "10", file)
	good := spec.N - nBad - 1
	if rep.Records != spec.N || rep.Created != good || rep.Updated+rep.Unchanged != 0 || rep.RejectedCount != nBad+1 || rep.Error != "" {
		t.Fatalf("report %+v; want %d records, %d created, %d rejected", rep, spec.N, good, nBad+1)
	}
	var rejected []int
	for _, r := range rep.Rejected {
		rejected = append(rejected, r.Index)
	}
	wantRejected := []int{0, 15, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 55, 99}
	if !slices.Equal(rejected, wantRejected) {
		t.Errorf("rejected records %v, want %v", rejected, wantRejected)
	}
	if n, err := st.ArticleCount(context.Background()); err != nil || n != int64(good) {
		t.Errorf("store holds %d articles (%v), report says %d created", n, err, good)
	}
	if _, err := st.Article(context.Background(), refused); err == nil {
		t.Errorf("%s stored despite the trigger", refused)
	}
	wantPublishedOnce(t, buildAll(t, st), spec, refused)
	events, err := st.PendingEvents(context.Background(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}

	before := changeState(t, dbPath)
	rep = importJSON(t, "--batch", "10", file)
	if rep.Records != spec.N || rep.Unchanged != good || rep.Created+rep.Updated != 0 || rep.RejectedCount != nBad+1 {
		t.Errorf("second import %+v; want all %d good records unchanged", rep, good)
	}
	if after := changeState(t, dbPath); after != before {
		t.Errorf("second import wrote: %s, then %s", before, after)
	}
	buildAll(t, st)
	if again, err := st.PendingEvents(context.Background(), 1<<30); err != nil || len(again) != len(events) {
		t.Errorf("builds after the second import: %d outbox rows (%v), before %d", len(again), err, len(events))
	}
}

// TestImportSurvivesSIGKILL kills an import part-way with SIGKILL and runs it again: the store
// holds the records of the batches committed before, in order, the second run stores the rest,
// and builds publish every article once. The killed import reads its input from a pipe that
// holds back the last records until it is dead, so it is always killed while importing.
func TestImportSurvivesSIGKILL(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SYNDICATE_DATA_DIR", dir)
	dbPath := filepath.Join(dir, "syndicate.db")
	spec := importdata.Spec{N: 2000, Channels: bulkChannels}
	const batch = 20
	file := writeInput(t, dir, spec)

	cmd := exec.Command(os.Args[0], "import", "--quiet", "--batch", fmt.Sprint(batch), "-")
	cmd.Env = append(os.Environ(), "SYNDICATE_TEST_MAIN=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		var b []byte
		for i := range spec.N - 100 {
			b = spec.Record(b, i)
		}
		stdin.Write(b) // fails once the process is killed; the last 100 records are never sent
	}()
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := func() (n int, last string) {
		db.QueryRow(`SELECT count(*), coalesce(max(id), '') FROM articles`).Scan(&n, &last)
		return n, last
	}
	t.Cleanup(func() { cmd.Process.Kill() }) // when the wait below fails; harmless after the kill
	testwait.For(t, "ten committed batches", func() bool { n, _ := stored(); return n >= 10*batch })
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	stdin.Close()
	<-fed
	n, last := stored()
	db.Close()
	t.Logf("%d of %d records stored when the import was killed", n, spec.N)
	switch {
	case n > spec.N-100:
		t.Fatalf("%d records stored, more than the import was sent", n)
	case last != importdata.ID(n-1):
		t.Errorf("%d records stored, the last %s: not the first %d", n, last, n)
	}

	rep := importJSON(t, file)
	if rep.Created != spec.N-n || rep.Unchanged != n || rep.Updated+rep.RejectedCount != 0 {
		t.Errorf("second run %+v; want %d created and %d unchanged", rep, spec.N-n, n)
	}
	st, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c, err := st.ArticleCount(context.Background()); err != nil || c != int64(spec.N) {
		t.Errorf("%d articles stored (%v), want %d", c, err, spec.N)
	}
	wantPublishedOnce(t, buildAll(t, st), spec)
}

// TestImportHeapIsBounded streams a generated input of about 69 MB through the decoder and the
// importer into SQLite, never on disk or whole in memory, and samples the heap after every
// batch: it stays within a bound well under the input's size.
func TestImportHeapIsBounded(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Load("", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := cfg.Tree()
	if err != nil {
		t.Fatal(err)
	}
	spec := importdata.Spec{N: 1_200, Channels: bulkChannels, SummaryBytes: 60_000}
	in := &countingReader{r: spec.Reader()}
	const bound = 32 << 20
	// HeapAlloc counts garbage not yet collected too, up to GOGC percent of the live heap: a
	// lower GOGC makes the samples closer to what the import holds, so a smaller input shows it.
	defer debug.SetGCPercent(debug.SetGCPercent(25))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	lim := cfg.Limits.Article()
	im := ingest.Importer{Store: st, Tree: tree, Limits: lim, Progress: func(ingest.ImportReport) {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}}
	rep, err := im.Import(ctx, syndicate.NewDecoder(in, lim).Records())
	if err != nil || rep.Created != spec.N {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	grew := int64(peak) - int64(base)
	t.Logf("%d MiB read, heap grew by at most %d MiB", in.n.Load()>>20, grew>>20)
	if in.n.Load() < 2*bound {
		t.Fatalf("only %d bytes read: the input must be well over the bound", in.n.Load())
	}
	if grew > bound {
		t.Errorf("heap grew by %d MiB importing %d MiB; bound %d MiB", grew>>20, in.n.Load()>>20, bound>>20)
	}
}

// TestImportCancelledSaysWhereItStopped: an import whose context ends part-way returns an error
// and a report of the batches it stored, never a report that looks complete.
func TestImportCancelledSaysWhereItStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg, err := config.Load("", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := cfg.Tree()
	if err != nil {
		t.Fatal(err)
	}
	spec := importdata.Spec{N: 5000, Channels: bulkChannels}
	im := ingest.Importer{Store: st, Tree: tree, Limits: cfg.Limits.Article(), BatchSize: 100,
		Progress: func(ingest.ImportReport) { cancel() }}
	rep, err := im.Import(ctx, syndicate.NewDecoder(spec.Reader(), im.Limits).Records())
	if err == nil || rep.Error == "" || rep.Records == 0 || rep.Records >= spec.N || rep.Created != rep.Records {
		t.Fatalf("cancelled import: %+v, %v; want an error and the batches stored before", rep, err)
	}
	if n, err := st.ArticleCount(context.Background()); err != nil || n != int64(rep.Created) {
		t.Errorf("store holds %d articles (%v), report says %d", n, err, rep.Created)
	}
}

// TestImportLogsProgress: without a terminal, progress is a log line per interval counting
// committed batches; --quiet silences it and leaves the final report.
func TestImportLogsProgress(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SYNDICATE_DATA_DIR", dir)
	t.Setenv("SYNDICATE_LOG_FORMAT", "text")
	file := writeInput(t, dir, importdata.Spec{N: 2000, Channels: bulkChannels})
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"import", "--batch", "500", "--progress-every", "1ns", file}, nil, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	// Batches end at 500 records, or earlier when the decoder is slow (a loaded machine, -race):
	// every batch is a line here, the last one at 2000.
	if n := bytes.Count(errOut.Bytes(), []byte(`msg="import progress"`)); n < 4 {
		t.Errorf("%d progress lines for 4 batches or more:\n%s", n, errOut.String())
	}
	for _, want := range []string{"msg=\"import progress\" records=2000 created=2000", "bytes_total=470140", "eta=0s", "msg=\"import done\" records=2000"} {
		if !bytes.Contains(errOut.Bytes(), []byte(want)) {
			t.Errorf("log lacks %q:\n%s", want, errOut.String())
		}
	}
	if !bytes.Contains(out.Bytes(), []byte("created 2000, updated 0")) {
		t.Errorf("report: %s", out.String())
	}
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"import", "--quiet", file}, nil, &out, &errOut); code != 0 || errOut.Len() != 0 {
		t.Errorf("--quiet: exit %d, stderr %q", code, errOut.String())
	}
	if !bytes.Contains(out.Bytes(), []byte("unchanged 2000")) {
		t.Errorf("report: %s", out.String())
	}
}
