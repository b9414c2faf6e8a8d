package web_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // the test opens the store's file beside it to add a trigger

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

func article(id, date string) string {
	return fmt.Sprintf(`{"id":%q,"title":"零陵","channels":["lingling"],"published_at":%q}`, id, date)
}

const admin = "Bearer old-token"

// report decodes an import report, failing the test if the body is not one.
func report(t *testing.T, body string) ingest.ImportReport {
	t.Helper()
	var rep ingest.ImportReport
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		t.Fatalf("not a report: %.300s: %v", body, err)
	}
	return rep
}

func TestPostArticlesContentTypes(t *testing.T) {
	_, srv, _ := newServer(t)
	url := srv.URL + "/api/articles"
	for i, tt := range []struct {
		contentType string
		want        int
	}{
		{"", http.StatusCreated},
		{"application/json", http.StatusCreated},
		{"application/json; charset=utf-8", http.StatusCreated},
		{"Application/JSON; charset=UTF-8", http.StatusCreated},
		{"application/json; charset=utf8", http.StatusCreated},
		{"application/json; charset=us-ascii", http.StatusCreated},
		{"application/ld+json", http.StatusCreated},
		{"application/x-ndjson", http.StatusCreated},
		{"application/jsonl", http.StatusCreated},
		{"application/x-jsonlines", http.StatusCreated},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"multipart/form-data; boundary=x", http.StatusUnsupportedMediaType},
		{"application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"application/xml", http.StatusUnsupportedMediaType},
		{"json", http.StatusUnsupportedMediaType},
	} {
		resp, body := do(t, "POST", url, article(fmt.Sprintf("ct-%d", i), "2022-11-16T08:00:00+08:00"),
			"Authorization", admin, "Content-Type", tt.contentType)
		if resp.StatusCode != tt.want {
			t.Errorf("Content-Type %q: %d %s; want %d", tt.contentType, resp.StatusCode, body, tt.want)
		}
		if tt.want == http.StatusUnsupportedMediaType && (!strings.Contains(body, "application/json") || !strings.Contains(body, "application/x-ndjson")) {
			t.Errorf("Content-Type %q: the answer does not name the accepted types: %s", tt.contentType, body)
		}
	}
}

// The refusal of an over-long Content-Type echoes its start, cut between characters: a cut
// inside one would show as \x escapes of its stray bytes.
func TestPostArticlesLongContentTypeEchoed(t *testing.T) {
	_, srv, _ := newServer(t)
	ct := "text/" + strings.Repeat("类", 100) // 5 + 300 bytes: the 100th byte is inside a character
	resp, body := do(t, "POST", srv.URL+"/api/articles", article("ct-long", "2022-11-16T08:00:00+08:00"),
		"Authorization", admin, "Content-Type", ct)
	var e struct{ Error string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("%d %s (%v); want 415", resp.StatusCode, body, err)
	}
	if !strings.Contains(e.Error, `"text/类类`) || !strings.Contains(e.Error, "…") || strings.Contains(e.Error, `\x`) ||
		strings.Contains(e.Error, strings.Repeat("类", 40)) {
		t.Errorf("echoed Content-Type not cut cleanly to about 100 bytes: %s", e.Error)
	}
}

// Invalid UTF-8 is refused naming the record and the field; encoding/json would have stored
// U+FFFD in its place.
func TestPostArticlesInvalidUTF8(t *testing.T) {
	_, srv, st := newServer(t)
	url := srv.URL + "/api/articles"
	bad := `{"id":"u1","title":"零` + "\xff" + `陵","channels":["lingling"],"published_at":"2022-11-16T08:00:00+08:00"}`
	resp, body := do(t, "POST", url, bad, "Authorization", admin, "Content-Type", "application/json")
	var e struct{ Error, Field string }
	json.Unmarshal([]byte(body), &e)
	if resp.StatusCode != http.StatusBadRequest || e.Field != "title" || !strings.Contains(e.Error, "UTF-8") {
		t.Errorf("invalid UTF-8: %d %s; want 400 naming title", resp.StatusCode, body)
	}
	if _, err := st.Article(context.Background(), "u1"); err == nil {
		t.Error("the record with invalid UTF-8 was stored")
	}

	batch := article("u2", "2022-11-16T08:00:00+08:00") + "\n" + bad + "\n" + article("u3", "2022-11-16T09:00:00+08:00") + "\n"
	resp, body = do(t, "POST", url, batch, "Authorization", admin, "Content-Type", "application/x-ndjson")
	rep := report(t, body)
	if resp.StatusCode != http.StatusMultiStatus || rep.Created != 2 || rep.RejectedCount != 1 ||
		rep.Rejected[0].Index != 1 || rep.Rejected[0].Field != "title" {
		t.Errorf("batch with invalid UTF-8: %d %s", resp.StatusCode, body)
	}
}

// A malformed first line of JSON Lines is rejected alone, by index, and the lines after it are
// stored: it does not make the body be read as pretty-printed JSON that its error would stop.
func TestPostArticlesJSONLinesBadFirstLine(t *testing.T) {
	_, srv, st := newServer(t)
	body := `{"id":"f1","title":}` + "\n" + article("f2", "2022-11-16T08:00:00+08:00") + "\n" + article("f3", "2022-11-16T09:00:00+08:00") + "\n"
	resp, out := do(t, "POST", srv.URL+"/api/articles", body, "Authorization", admin, "Content-Type", "application/x-ndjson")
	rep := report(t, out)
	if resp.StatusCode != http.StatusMultiStatus || rep.Records != 3 || rep.Created != 2 || rep.RejectedCount != 1 ||
		rep.Rejected[0].Index != 0 || rep.Error != "" {
		t.Errorf("%d %s; want 207, lines 2 and 3 created, line 1 rejected", resp.StatusCode, out)
	}
	for _, id := range []string{"f2", "f3"} {
		if _, err := st.Article(context.Background(), id); err != nil {
			t.Errorf("%s not stored: %v", id, err)
		}
	}
}

// TestPostArticlesPoisonInBatch: a record whose date once panicked Article.Hash is rejected by
// index, and the records after it are stored.
func TestPostArticlesPoisonInBatch(t *testing.T) {
	_, srv, st := newServer(t)
	url := srv.URL + "/api/articles"
	records := []string{
		article("p0", "2022-11-16T08:00:00+08:00"),
		article("p1", "9999-12-31T23:59:59-08:00"),
		article("p2", "2022-11-16T09:00:00+08:00"),
		article("p3", "0000-01-01T00:00:00+08:00"),
		article("p4", "9999-12-31T23:59:59Z"),
		article("p5", "2022-11-16T10:00:00+08:00"),
	}
	for name, body := range map[string]string{
		"json lines": strings.Join(records, "\n"),
		"array":      "[" + strings.Join(records, ",") + "]",
	} {
		t.Run(name, func(t *testing.T) {
			resp, out := do(t, "POST", url, body, "Authorization", admin, "Content-Type", "application/json")
			rep := report(t, out)
			if resp.StatusCode != http.StatusMultiStatus || rep.Created+rep.Unchanged != 3 || rep.RejectedCount != 3 {
				t.Fatalf("%d %s; want 207 with 3 stored and 3 rejected", resp.StatusCode, out)
			}
			for i, rj := range rep.Rejected {
				if want := []int{1, 3, 4}[i]; rj.Index != want || rj.Field != "published_at" {
					t.Errorf("rejection %d: %+v; want index %d naming published_at", i, rj, want)
				}
			}
			for _, id := range []string{"p0", "p2", "p5"} {
				if _, err := st.Article(context.Background(), id); err != nil {
					t.Errorf("%s not stored: %v", id, err)
				}
			}
		})
	}
	resp, out := do(t, "POST", url, records[1], "Authorization", admin)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(out, `"field": "published_at"`) {
		t.Errorf("the poison alone: %d %s; want 400 naming published_at", resp.StatusCode, out)
	}
}

// TestPostArticlesStoreRefusesOneRecord: a record the database refuses (here a trigger, as a
// constraint would) is reported by index and the others are stored, on both engines.
func TestPostArticlesStoreRefusesOneRecord(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "s.db")
		st, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN NEW.id = 'refused'
			BEGIN SELECT RAISE(ABORT, 'refused by a constraint'); END`); err != nil {
			t.Fatal(err)
		}
		refusedRecord(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := postgrestest.Schema(t, postgrestest.DSN(t))
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.id = 'refused' THEN RAISE EXCEPTION 'refused by a constraint'; END IF; RETURN NEW; END $$;
			CREATE TRIGGER refuse BEFORE INSERT ON articles FOR EACH ROW EXECUTE FUNCTION refuse()`); err != nil {
			t.Fatal(err)
		}
		refusedRecord(t, st)
	})
}

func refusedRecord(t *testing.T, st store.Store) {
	t.Helper()
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "lingling", Title: "零陵"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Options{Store: st, Tree: tree, Site: syndicate.Site{Title: "t", BaseURL: "http://localhost", TagDate: "2026"},
		Tokens: []string{"old-token"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Handler())
	defer srv.Close()
	body := strings.Join([]string{
		article("r0", "2022-11-16T08:00:00+08:00"), article("refused", "2022-11-16T08:00:00+08:00"), article("r2", "2022-11-16T08:00:00+08:00"),
	}, "\n")
	resp, out := do(t, "POST", srv.URL+"/api/articles", body, "Authorization", admin)
	rep := report(t, out)
	if resp.StatusCode != http.StatusMultiStatus || rep.Created != 2 || rep.RejectedCount != 1 || rep.Rejected[0].Index != 1 {
		t.Fatalf("%d %s; want 207 with record 1 rejected", resp.StatusCode, out)
	}
	if strings.Contains(out, "constraint") {
		t.Errorf("the answer shows the database's error: %s", out)
	}
	if _, err := st.Article(context.Background(), "r2"); err != nil {
		t.Errorf("the record after the refused one was not stored: %v", err)
	}
}

// TestPostArticlesStoreDown: when the store goes away during an import, the import stops and
// the answer (503) says what was stored.
func TestPostArticlesStoreDown(t *testing.T) {
	_, srv, st := newServer(t)
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte(article("d0", "2022-11-16T08:00:00+08:00") + "\n"))
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := st.Article(context.Background(), "d0"); err == nil {
				break
			}
			runtime.Gosched()
		}
		st.Close()
		pw.Write([]byte(article("d1", "2022-11-16T08:00:00+08:00") + "\n" + article("d2", "2022-11-16T08:00:00+08:00") + "\n"))
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/api/articles", pr)
	req.Header.Set("Authorization", admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	rep := report(t, string(out))
	if resp.StatusCode != http.StatusServiceUnavailable || rep.Created != 1 || rep.Error == "" || strings.Contains(rep.Error, "sql") {
		t.Errorf("%d %s; want 503 reporting 1 created and where it stopped", resp.StatusCode, out)
	}
}

// TestPostArticlesAnswerIsSmall: 700,000 empty records (the attack that once took 700 MB and
// answered 48 MB) get a report of the first 100 and the count.
func TestPostArticlesAnswerIsSmall(t *testing.T) {
	_, srv, _ := newServer(t)
	body := strings.Repeat("{}\n", 700_000)
	resp, out := do(t, "POST", srv.URL+"/api/articles", body, "Authorization", admin, "Content-Type", "application/x-ndjson")
	rep := report(t, out)
	if resp.StatusCode != http.StatusBadRequest || rep.RejectedCount != 700_000 || len(rep.Rejected) != 100 || len(out) > 32<<10 {
		t.Errorf("%d, %d rejected, %d listed, %d-byte answer; want 400, 700000, 100 and a small answer",
			resp.StatusCode, rep.RejectedCount, len(rep.Rejected), len(out))
	}
}

// TestPostArticlesLargestBody sends a body just under the 32 MiB cap made of records just under
// max_record_bytes (content of \u003c escapes), samples the heap while the server reads it, and
// then sends one byte more than the cap.
func TestPostArticlesLargestBody(t *testing.T) {
	_, srv, st := newServer(t)
	const recordBytes = 8<<20 - 200
	// The body is made as it is sent, so that the test's own copy does not weigh on the heap
	// it measures.
	var parts []io.Reader
	size, records := 0, 0
	for ; size+recordBytes < 32<<20; records++ {
		prefix := fmt.Sprintf(`{"id":"big-%d","channels":["lingling"],"published_at":"2022-11-16T08:00:00+08:00","content_html":"`, records)
		n := (recordBytes - len(prefix) - 3) / 6
		parts = append(parts, strings.NewReader(prefix), &repeatReader{unit: `\u003c`, n: n}, strings.NewReader("\"}\n"))
		size += len(prefix) + 6*n + 3
	}
	body := io.MultiReader(parts...)

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, ms.HeapAlloc
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapAlloc)
			}
		}
	}()
	req, _ := http.NewRequest("POST", srv.URL+"/api/articles", body)
	req.Header.Set("Authorization", admin)
	req.Header.Set("Content-Type", "application/x-ndjson")
	httpResp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	outBytes, _ := io.ReadAll(httpResp.Body)
	httpResp.Body.Close()
	resp, out := httpResp, string(outBytes)
	close(done)
	<-sampled
	rep := report(t, out)
	if resp.StatusCode != http.StatusCreated || rep.Created != records {
		t.Fatalf("%d-byte body: %d %.300s", size, resp.StatusCode, out)
	}
	// README (Limits, Memory) documents the bound: a record's bytes are held a few times over
	// while it is decoded, validated, sanitised and stored, whatever the body's size.
	const bound = 160 << 20 // 20 × max_record_bytes
	if grew := peak - base; grew > bound {
		t.Errorf("heap grew by %d MiB for a %d MiB body; bound %d MiB", grew>>20, size>>20, bound>>20)
	} else {
		t.Logf("heap grew by at most %d MiB for a %d MiB body of %d records", grew>>20, size>>20, records)
	}
	if _, err := st.Article(context.Background(), "big-0"); err != nil {
		t.Error(err)
	}

	over := strings.Repeat(" ", 32<<20) + "{}"
	resp, out = do(t, "POST", srv.URL+"/api/articles", over, "Authorization", admin)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || len(out) > 1<<10 {
		t.Errorf("a body past the cap: %d %.300s; want 413", resp.StatusCode, out)
	}
}

// repeatReader gives unit n times without holding more than one copy.
type repeatReader struct {
	unit string
	n    int
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	total := 0
	for len(p) > 0 && r.n > 0 {
		c := copy(p, r.unit[r.off:])
		p, total, r.off = p[c:], total+c, r.off+c
		if r.off == len(r.unit) {
			r.off, r.n = 0, r.n-1
		}
	}
	if total == 0 && r.n == 0 {
		return 0, io.EOF
	}
	return total, nil
}
