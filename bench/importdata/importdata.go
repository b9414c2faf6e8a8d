// Package importdata generates import inputs of any size as they are read: JSON Lines of small
// articles spread over channels, with bad records where asked. The import benchmark, `make bench`
// and the import tests use it, so none of them writes or holds the whole input.
package importdata

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Spec describes an input.
type Spec struct {
	N        int      // records
	Channels []string // record i is filed in Channels[i%len(Channels)]
	// Bad says which records are bad: every third of them (i%3 == 2) is not JSON at all, the
	// others name a channel that does not exist. (A first line that is not JSON makes the input
	// read as one JSON document, not JSON Lines.)
	Bad func(i int) bool
	// Edition is written into every title: inputs of two editions differ in every record.
	Edition int
	// ContentBytes pads each record's content to about this size (default: a short paragraph,
	// about 240 bytes a record in all).
	ContentBytes int
	// SummaryBytes pads each record's summary to about this size: bulk that costs no sanitising.
	SummaryBytes int
}

// published is when the first record was published; record i a minute after record i-1.
var published = time.Date(2022, 11, 16, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))

// ID returns record i's article id.
func ID(i int) string { return fmt.Sprintf("bulk-%07d", i) }

// Record appends record i, with its newline, to b.
func (s Spec) Record(b []byte, i int) []byte {
	if s.Bad != nil && s.Bad(i) {
		if i%3 == 2 {
			return fmt.Appendf(b, "{\"id\": %q, \"title\": \n", ID(i))
		}
		return fmt.Appendf(b, `{"id":%q,"title":"坏","channels":["mars"],"published_at":"2022-11-16T08:00:00+08:00"}`+"\n", ID(i))
	}
	// Every part is JSON-safe as it is (no quotes, backslashes or control characters), so the
	// record is put together without escaping: generating stays cheap beside importing.
	content := "<p>零陵古城 " + ID(i) + " 的新闻正文。</p>"
	if pad := s.ContentBytes - len(content); pad > 0 {
		content += "<p>" + strings.Repeat("永", pad/3) + "</p>"
	}
	summary := "摘要"
	if pad := s.SummaryBytes - len(summary); pad > 0 {
		summary += strings.Repeat("z", pad)
	}
	b = append(b, `{"id":"`+ID(i)+`","title":"零陵新闻 `...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, " 第 "...)
	b = strconv.AppendInt(b, int64(s.Edition), 10)
	b = append(b, ` 版","summary":"`+summary+`","content_html":"`+content+`","authors":["彭沛"],"channels":["`+s.Channels[i%len(s.Channels)]+`"],"published_at":"`...)
	b = published.Add(time.Duration(i)*time.Minute).AppendFormat(b, time.RFC3339)
	return append(b, "\"}\n"...)
}

// Reader returns the input, generated as it is read.
func (s Spec) Reader() io.Reader { return &reader{spec: s} }

type reader struct {
	spec Spec
	next int
	buf  bytes.Buffer
}

func (r *reader) Read(p []byte) (int, error) {
	for r.buf.Len() < len(p) && r.next < r.spec.N {
		r.buf.Write(r.spec.Record(nil, r.next))
		r.next++
	}
	if r.buf.Len() == 0 {
		return 0, io.EOF
	}
	return r.buf.Read(p)
}

// WriteTo writes the whole input to w (a file for `syndicate import`).
func (s Spec) WriteTo(w io.Writer) (int64, error) {
	var n int64
	b := make([]byte, 0, 64<<10)
	for i := range s.N {
		b = s.Record(b, i)
		if len(b) > 60<<10 || i == s.N-1 {
			m, err := w.Write(b)
			n += int64(m)
			if err != nil {
				return n, err
			}
			b = b[:0]
		}
	}
	return n, nil
}

// WriteCSV writes the records as CSV rows of an articles-like table (id, seq, hash, published_at,
// data), for the physical limit the benchmark compares with: sqlite3's .import and psql's \copy
// loading the same rows. Bad records are left out.
func (s Spec) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	var line []byte
	for i := range s.N {
		if s.Bad != nil && s.Bad(i) {
			continue
		}
		line = s.Record(line[:0], i)
		sum := sha256.Sum256(line)
		if err := cw.Write([]string{ID(i), strconv.Itoa(i + 1), hex.EncodeToString(sum[:16]),
			published.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), string(bytes.TrimSpace(line))}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
