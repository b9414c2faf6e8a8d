package syndicate_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

const okRecord = `{"id":"a","channels":["x"],"published_at":"2022-11-16T08:00:00+08:00"}`

// TestDecoder covers every format and every way a record or a body can be bad. Each result is
// "ok" or the field its error names; wantErr is the field Err names once the records are read.
func TestDecoder(t *testing.T) {
	small := syndicate.DefaultLimits()
	small.MaxRecordBytes = 100
	big := `{"id":"b","title":"` + strings.Repeat("x", 200) + `"}`
	huge := `{"id":"b","title":"` + strings.Repeat("x", 200<<10) + `"}` // past the slack a decoder allows
	tests := []struct {
		name    string
		input   string
		lim     syndicate.Limits
		want    []string
		wantErr string
	}{
		{"one object", okRecord, syndicate.Limits{}, []string{"ok"}, ""},
		{"one object over lines", "{\n  \"id\": \"a\",\n  \"channels\": [\"x\"]\n}\n", syndicate.Limits{}, []string{"ok"}, ""},
		{"objects over lines, one after another", "{\n\"id\":\"a\"}\n{\n\"id\":\"b\"}", syndicate.Limits{}, []string{"ok", "ok"}, ""},
		{"array", "[" + okRecord + "," + okRecord + "]", syndicate.Limits{}, []string{"ok", "ok"}, ""},
		{"array with a byte order mark and white space", "\xEF\xBB\xBF \n[ " + okRecord + " ]\n", syndicate.Limits{}, []string{"ok"}, ""},
		{"empty array", "[]", syndicate.Limits{}, nil, ""},
		{"json lines with a broken line and blank lines", okRecord + "\n\n{\"id\":\n\r\n{\"id\":\"c\",\"tags\":7}\n", syndicate.Limits{}, []string{"ok", "body", "tags"}, ""},
		{"json lines with CRLF", okRecord + "\r\n" + okRecord + "\r\n", syndicate.Limits{}, []string{"ok", "ok"}, ""},
		{"json lines, a line not an object", okRecord + "\n[1]\n7\n" + okRecord, syndicate.Limits{}, []string{"ok", "body", "body", "ok"}, ""},
		{"json lines, a line too large", okRecord + "\n" + big + "\n" + okRecord, small, []string{"ok", "body", "ok"}, ""},
		{"array, an element too large", "[" + okRecord + "," + big + "," + okRecord + "]", small, []string{"ok", "body", "ok"}, ""},
		{"array, an element too large to hold", "[" + okRecord + "," + huge + "," + okRecord + "]", small, []string{"ok", "body"}, "body"},
		{"array, a syntax error stops it", "[" + okRecord + ",{\"id\":}," + okRecord + "]", syndicate.Limits{}, []string{"ok", "body"}, "body"},
		{"array, cut off", "[" + okRecord + "," + okRecord, syndicate.Limits{}, []string{"ok", "ok", "body"}, "body"},
		{"array, something after it", "[" + okRecord + "] x", syndicate.Limits{}, []string{"ok"}, "body"},
		{"array of non-objects", `[1, "x", null]`, syndicate.Limits{}, []string{"body", "body", "body"}, ""},
		{"bad time", `{"id":"a","published_at":"yesterday"}`, syndicate.Limits{}, []string{"published_at"}, ""},
		{"unknown key", `{"id":"a","headline":"x"}`, syndicate.Limits{}, []string{"headline"}, ""},
		{"invalid UTF-8 in a line names the field", okRecord + "\n{\"id\":\"b\",\"summary\":\"\xff\"}\n" + okRecord, syndicate.Limits{}, []string{"ok", "summary", "ok"}, ""},
		{"invalid UTF-8 in an element names the field", "[{\"id\":\"b\",\"authors\":[\"\xc3\x28\"]}," + okRecord + "]", syndicate.Limits{}, []string{"authors", "ok"}, ""},
		{"invalid UTF-8 in a key", "{\"\xff\":1}", syndicate.Limits{}, []string{"body"}, ""},
		{"escaped lone surrogates name the field", `{"id":"b","title":"sur \ud800 x"}` + "\n" + `{"id":"c","authors":["a","\uDC00"]}` + "\n" + `{"id":"d","summary":"\ude00\ud83d"}` + "\n" + `{"id":"e","summary":"\ud83d\u0041"}`, syndicate.Limits{}, []string{"title", "authors", "summary", "summary"}, ""},
		{"escaped surrogate pairs and an escaped backslash are text", `{"id":"b","title":"😀 \ud83d\ude00 \\ud800","_note":"\ud800"}`, syndicate.Limits{}, []string{"ok"}, ""},
		{"empty", "  \n ", syndicate.Limits{}, nil, "body"},
		// A bad first line is a bad line of JSON Lines, not the start of a stream of values
		// that its syntax error would end: it alone is rejected.
		{"not JSON at all", "hello", syndicate.Limits{}, []string{"body"}, ""},
		{"json lines, the first line broken", "{\"id\":}\n" + okRecord + "\n" + okRecord + "\n", syndicate.Limits{}, []string{"body", "ok", "ok"}, ""},
		{"json lines, the first line not JSON", "hello\n" + okRecord + "\n" + okRecord, syndicate.Limits{}, []string{"body", "ok", "ok"}, ""},
		{"json lines, the first line with an unknown key", "{\"x\":1}\n" + okRecord, syndicate.Limits{}, []string{"x", "ok"}, ""},
		{"objects one after another on the first line", okRecord + " " + okRecord + "\n" + okRecord, syndicate.Limits{}, []string{"ok", "ok", "ok"}, ""},
		{"objects over lines, the first cut off", "{\n\"id\":\"a\",\n" + okRecord, syndicate.Limits{}, []string{"body"}, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := syndicate.NewDecoder(strings.NewReader(tt.input), tt.lim)
			var got []string
			for r := range d.Records() {
				if r.Index != len(got) {
					t.Errorf("result %d has index %d", len(got), r.Index)
				}
				if r.Err == nil {
					got = append(got, "ok")
					continue
				}
				e, ok := r.Err.(*syndicate.Error)
				if !ok {
					t.Fatalf("record %d: %T %v", r.Index, r.Err, r.Err)
				}
				got = append(got, e.Field)
			}
			var errField string
			if err := d.Err(); err != nil {
				errField = err.(*syndicate.Error).Field
			}
			if !slices.Equal(got, tt.want) || errField != tt.wantErr {
				t.Errorf("results %v, Err %q (%v); want %v, %q", got, errField, d.Err(), tt.want, tt.wantErr)
			}
		})
	}
}

// TestDecoderSize: every record the decoder held says how many bytes it was as sent, in each
// format, bad records too; the import weighs records by it.
func TestDecoderSize(t *testing.T) {
	bad := `{"id":"b","tags":7}`
	pretty := "{\n" + okRecord[1:] // one byte longer than okRecord: its line break
	for _, tt := range []struct {
		name, body string
		want       []int
	}{
		{"json lines", okRecord + "\r\n" + bad + "\n", []int{len(okRecord), len(bad)}},
		{"array", "[ " + okRecord + " ,\n" + bad + "]", []int{len(okRecord), len(bad)}},
		{"values one after another", pretty + "\n" + bad, []int{len(pretty), len(bad)}},
	} {
		var sizes []int
		for r := range syndicate.NewDecoder(strings.NewReader(tt.body), syndicate.Limits{}).Records() {
			sizes = append(sizes, r.Size)
		}
		if !slices.Equal(sizes, tt.want) {
			t.Errorf("%s: sizes %v, want %v", tt.name, sizes, tt.want)
		}
	}
}

// TestDecoderYieldsAsItReads shows that a record is available before the next one was sent, the
// property batched writes on top of the decoder (issue #16) need.
func TestDecoderYieldsAsItReads(t *testing.T) {
	for _, format := range []struct{ name, start, sep string }{{"lines", "", "\n"}, {"array", "[", ","}} {
		t.Run(format.name, func(t *testing.T) {
			pr, pw := io.Pipe()
			next, stop := iter.Pull(syndicate.NewDecoder(pr, syndicate.Limits{}).Records())
			defer stop()
			go pw.Write([]byte(format.start + okRecord + format.sep))
			r, ok := next()
			if !ok || r.Err != nil || r.Article.ID != "a" {
				t.Fatalf("first record before the second was written: %+v %v", r, ok)
			}
			go func() { pw.Write([]byte(okRecord)); pw.Close() }()
			if r, ok := next(); !ok || r.Index != 1 {
				t.Fatalf("second record: %+v %v", r, ok)
			}
		})
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

// TestDecoderMemoryIsBounded imports a million tiny records (each rejected: no id) through the
// decoder and the import report, in both formats, and samples the heap as they go: it must not
// grow with the number of records. The bound, 64 MiB, is the one README (Limits) documents.
func TestDecoderMemoryIsBounded(t *testing.T) {
	const n = 1_000_000
	const bound = 64 << 20
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tree, err := syndicate.NewTree([]syndicate.Channel{{Slug: "x", Title: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []struct {
		name string
		body func() io.Reader
	}{
		{"json lines", func() io.Reader { return &repeatReader{unit: "{}\n", n: n} }},
		{"array", func() io.Reader {
			return io.MultiReader(strings.NewReader("["), &repeatReader{unit: "{},", n: n - 1}, strings.NewReader("{}]"))
		}},
	} {
		t.Run(format.name, func(t *testing.T) {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base, peak := ms.HeapAlloc, ms.HeapAlloc
			d := syndicate.NewDecoder(format.body(), syndicate.Limits{})
			sampled := func(yield func(syndicate.DecodeResult) bool) {
				for r := range d.Records() {
					if r.Index%50_000 == 0 {
						runtime.ReadMemStats(&ms)
						peak = max(peak, ms.HeapAlloc)
					}
					if !yield(r) {
						return
					}
				}
			}
			rep, err := ingest.ImportRecords(context.Background(), st, tree, syndicate.Limits{}, sampled)
			if err != nil || d.Err() != nil {
				t.Fatal(err, d.Err())
			}
			if rep.Records != n || rep.RejectedCount != n || len(rep.Rejected) != 100 {
				t.Errorf("report: %d records, %d rejected, %d listed; want %d, %d, 100", rep.Records, rep.RejectedCount, len(rep.Rejected), n, n)
			}
			if grew := peak - base; grew > bound {
				t.Errorf("heap grew by %d MiB over %d records; bound %d MiB", grew>>20, n, bound>>20)
			} else {
				t.Logf("heap grew by at most %.1f MiB over %d records", float64(grew)/(1<<20), n)
			}
		})
	}
}

// FuzzDecodeArticles feeds arbitrary bodies through decoding, normalising, validation and
// hashing: none may panic, and every record that passes validation hashes. The seeds are the
// adversarial corpus's troublemakers (testdata/fuzz/FuzzDecodeArticles adds more).
func FuzzDecodeArticles(f *testing.F) {
	for _, s := range []string{
		okRecord,
		`{"id":"a","channels":["x"],"published_at":"9999-12-31T23:59:59-08:00"}`,
		`{"id":"a","channels":["x"],"published_at":"0000-01-01T00:00:00+08:00"}`,
		`{"id":"a","channels":["x"],"published_at":"2022-11-16T08:00:00+24:00","updated_at":"9999-12-31T23:59:59+23:59"}`,
		"[" + okRecord + ",{\"id\":\"b\",\"title\":\"\xff\"}]",
		okRecord + "\n{\"id\":\n" + okRecord,
		`{"id":"a","language":"<script>","image_url":"http://x/<"}`,
		"\xEF\xBB\xBF[]",
	} {
		f.Add([]byte(s))
	}
	known := func(s string) bool { return s == "x" }
	f.Fuzz(func(t *testing.T, body []byte) {
		lim := syndicate.DefaultLimits()
		lim.MaxRecordBytes = 4 << 10
		d := syndicate.NewDecoder(strings.NewReader(string(body)), lim)
		for r := range d.Records() {
			a := r.Article
			a.Hash()
			if r.Err != nil {
				continue
			}
			a.Normalize()
			if err := a.Validate(known, lim); err == nil {
				if _, err := a.PublishedAt.MarshalJSON(); err != nil {
					t.Errorf("valid article with an unencodable date: %v", err)
				}
			}
			a.Hash()
		}
	})
}

// TestDecoderManyKeys: a record of a million comment keys, just under max_record_bytes, is read
// a key at a time; the heap, sampled while it is decoded, stays under the same 64 MiB bound.
func TestDecoderManyKeys(t *testing.T) {
	n := (8<<20 - 64) / len(`"_k":0,`)
	body := io.MultiReader(strings.NewReader("{"), &repeatReader{unit: `"_k":0,`, n: n}, strings.NewReader(`"id":"x"}`+"\n"))
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	peak := make(chan uint64)
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		high := base
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				peak <- high
				return
			case <-tick.C:
				runtime.ReadMemStats(&m)
				high = max(high, m.HeapAlloc)
			}
		}
	}()
	var got []syndicate.DecodeResult
	for r := range syndicate.NewDecoder(body, syndicate.Limits{}).Records() {
		got = append(got, r)
	}
	close(done)
	grew := <-peak - base
	if len(got) != 1 || got[0].Err != nil || got[0].Article.ID != "x" {
		t.Fatalf("results %+v", got)
	}
	if grew > 64<<20 {
		t.Errorf("heap grew by %d MiB for one record of %d keys; bound 64 MiB", grew>>20, n)
	}
	t.Logf("heap grew by at most %d MiB for one record of %d keys", grew>>20, n)
}

// A record that fails to decode is still named by its id in the report, wherever the id stands.
func TestRejectedRecordKeepsItsID(t *testing.T) {
	for _, tc := range []struct{ name, record, id, field string }{
		{"bad date after the id", `{"id":"a-1","published_at":"16/11/2022","channels":["lingling"]}`, "a-1", "published_at"},
		{"bad date before the id", `{"published_at":"16/11/2022","id":"a-2"}`, "a-2", "published_at"},
		{"wrong type", `{"title":7,"id":"a-3"}`, "a-3", "title"},
		{"unknown field", `{"id":"a-4","titel":"x"}`, "a-4", "titel"},
		{"no id", `{"published_at":"x"}`, "", "published_at"},
		{"id not a string", `{"id":5,"title":7}`, "", "id"},
		{"not JSON", `{"id":"a-5",`, "", "body"},
		{"a key twice", `{"id":"a-6","title":"x","title":"y"}`, "a-6", "title"},
		{"the id twice", `{"id":"a-7","id":"a-8"}`, "", "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := syndicate.DecodeArticle([]byte(tc.record))
			var e *syndicate.Error
			if !errors.As(err, &e) || e.Field != tc.field {
				t.Fatalf("err = %v, want one naming %q", err, tc.field)
			}
			if a.ID != tc.id {
				t.Errorf("id = %q, want %q", a.ID, tc.id)
			}
		})
	}
}

// zeros is an endless source without a newline, like /dev/zero.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// An endless line is given up after a few times the record limit, with an error, instead of
// being skipped forever.
func TestDecoderGivesUpAnEndlessLine(t *testing.T) {
	lim := syndicate.DefaultLimits()
	lim.MaxRecordBytes = 1 << 10
	src := io.MultiReader(strings.NewReader(okRecord+"\n"), zeros{})
	dec := syndicate.NewDecoder(src, lim)
	var got []syndicate.DecodeResult
	for rec := range dec.Records() {
		got = append(got, rec)
	}
	if len(got) != 2 || got[0].Err != nil || got[1].Err == nil || dec.Err() == nil ||
		!strings.Contains(dec.Err().Error(), "larger than 1024 bytes") {
		t.Fatalf("records %+v, err %v; want the good record, then the endless line refused", got, dec.Err())
	}
}
