package syndicate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
)

// Decoder reads articles from a body of any size one record at a time, holding at most about
// two records' worth (Limits.MaxRecordBytes) of it: a JSON array is read element by element,
// JSON values one after another (pretty-printed objects: the first line starts a value it does
// not finish, or holds several) value by value, and anything else as JSON Lines, line by line.
//
// A record that is malformed, not valid UTF-8 or larger than MaxRecordBytes is a result with
// an error naming it, and the records after it are still read, except where the format leaves
// no way to find the next record (a syntax error inside an array or an object stream): then
// that record's result says the rest was not read, and so does Err.
type Decoder struct {
	r   *bufio.Reader
	lim Limits
	buf []byte // the current JSON line
	err error
}

// NewDecoder reads records from r within lim.
func NewDecoder(r io.Reader, lim Limits) *Decoder {
	return &Decoder{r: bufio.NewReaderSize(r, 64<<10), lim: lim.orDefault()}
}

// Err returns why the input stopped before its end (an *Error the client may see), once
// Records has finished; nil when every record was read.
func (d *Decoder) Err() error { return d.err }

// separatorSlack is how much white space and punctuation may come between records.
const separatorSlack = 64 << 10

// Records yields each record as it is read. It reads the input once.
func (d *Decoder) Records() iter.Seq[DecodeResult] {
	return func(yield func(DecodeResult) bool) {
		c, err := d.skipSpace()
		if err == io.EOF {
			d.err = FieldError("body", "is empty: send a JSON object, an array of objects or JSON Lines")
			return
		}
		if err != nil {
			d.err = readError(err)
			return
		}
		if c == '[' {
			d.values(yield, d.r, true)
			return
		}
		first, tooLong, err := d.readLine()
		if !tooLong && (err == nil || err == io.EOF) && valuesFollow(first) {
			// Not JSON Lines: one object spread over lines, or several.
			rest := io.MultiReader(bytes.NewReader(bytes.Clone(first)), d.r)
			d.buf = nil
			d.values(yield, rest, false)
			return
		}
		d.lines(yield, first, tooLong, err)
	}
}

// valuesFollow reports whether the first line of a body starts JSON values one after another
// rather than JSON Lines: it holds the start of a value that goes on past the line (a
// pretty-printed object), or several values. A line with a syntax error is a bad line of JSON
// Lines, rejected alone, and the lines after it are still read.
func valuesFollow(line []byte) bool {
	if json.Valid(line) { // one value: the common case, scanned without a copy
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	for n := 0; ; n++ {
		var v json.RawMessage
		switch err := dec.Decode(&v); {
		case err == io.EOF:
			return n > 1
		case err == io.ErrUnexpectedEOF:
			return true
		case err != nil:
			return false
		}
	}
}

// lines reads JSON Lines, starting with the line already read; a line that is not a record is
// rejected on its own. Blank lines are not records.
func (d *Decoder) lines(yield func(DecodeResult) bool, line []byte, tooLong bool, err error) {
	for i := 0; ; {
		if err != nil && err != io.EOF {
			d.stop(yield, i, err)
			return
		}
		rec := bytes.TrimSpace(line)
		if tooLong || len(rec) > d.lim.MaxRecordBytes {
			if !yield(DecodeResult{Index: i, Err: d.tooLarge()}) {
				return
			}
			i++
		} else if len(rec) > 0 {
			a, derr := DecodeArticle(rec)
			if !yield(DecodeResult{Index: i, Article: a, Err: derr, Size: len(rec)}) {
				return
			}
			i++
		}
		if err == io.EOF {
			return
		}
		line, tooLong, err = d.readLine()
	}
}

// maxSkip is how many times limits.max_record_bytes a line too long to be a record may run
// before the input is given up.
const maxSkip = 4

// readLine returns the next line in d.buf, or tooLong without keeping it when it is larger
// than a record may be; err is io.EOF with the last line.
func (d *Decoder) readLine() (line []byte, tooLong bool, err error) {
	d.buf = d.buf[:0]
	skipped := 0
	for {
		chunk, err := d.r.ReadSlice('\n')
		if tooLong {
			// A line is skipped to its end so that the next record can be read, but not
			// forever: an endless source without a newline (a device, a stuck pipe) would hold
			// the import at flat memory until someone noticed.
			if skipped += len(chunk); skipped > maxSkip*d.lim.MaxRecordBytes {
				return nil, true, errRecordTooLarge
			}
		} else {
			if len(d.buf)+len(chunk) > d.lim.MaxRecordBytes+2 { // +2: the line's own "\r\n"
				tooLong, d.buf = true, d.buf[:0]
			} else {
				d.buf = append(d.buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return d.buf, tooLong, err
	}
}

// values reads a JSON array's elements, or JSON values one after another.
func (d *Decoder) values(yield func(DecodeResult) bool, r io.Reader, array bool) {
	cr := &capReader{r: r, max: separatorSlack}
	dec := json.NewDecoder(cr)
	if array {
		if _, err := dec.Token(); err != nil { // the '[' skipSpace saw
			d.stop(yield, 0, err)
			return
		}
	}
	i := 0
	for ; ; i++ {
		cr.max = dec.InputOffset() + int64(d.lim.MaxRecordBytes) + separatorSlack
		if array && !dec.More() {
			break
		}
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if !array && err == io.EOF {
			return
		}
		if err != nil {
			d.stop(yield, i, err)
			return
		}
		a, derr := DecodeArticle(raw)
		if derr == nil && len(raw) > d.lim.MaxRecordBytes {
			derr = d.tooLarge()
		}
		if !yield(DecodeResult{Index: i, Article: a, Err: derr, Size: len(raw)}) {
			return
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		if err == nil {
			err = fmt.Errorf("%v where the array should continue", tok)
		}
		d.stop(yield, i, err)
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		d.err = FieldError("body", "has more after the array of articles")
	}
}

// stop ends the input at record i: it is rejected with the reason, and Err says so too.
func (d *Decoder) stop(yield func(DecodeResult) bool, i int, err error) {
	d.err = readError(err)
	if errors.Is(err, errRecordTooLarge) {
		d.err = FieldError("body", "this record is larger than %d bytes (limits.max_record_bytes); the rest of the body was not read", d.lim.MaxRecordBytes)
	}
	yield(DecodeResult{Index: i, Err: d.err})
}

func (d *Decoder) tooLarge() *Error {
	return FieldError("body", "this record is larger than %d bytes (limits.max_record_bytes)", d.lim.MaxRecordBytes)
}

// readError describes why the input could not be read from the record it is reported with on,
// for the client. It names no record number: the report gives the record's index (from 0 in the
// API, from 1 in syndicate import), and a number in the message would contradict one of them.
func readError(err error) *Error {
	var se *json.SyntaxError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return FieldError("body", "this record is not JSON: %v (byte %d of the body); the rest of the body was not read", se, se.Offset)
	case errors.As(err, &mb):
		return &Error{Code: ETOOLARGE, Field: "body", Message: fmt.Sprintf("is larger than %d bytes; this record and the rest were not read", mb.Limit)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return FieldError("body", "ends inside this record")
	default:
		return FieldError("body", "could not be read from this record on: %v", err)
	}
}

// skipSpace discards a byte order mark and white space and returns the next byte, unread.
func (d *Decoder) skipSpace() (byte, error) {
	if bom, _ := d.r.Peek(3); bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		d.r.Discard(3)
	}
	for {
		b, err := d.r.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			d.r.Discard(1)
		default:
			return b[0], nil
		}
	}
}

var errRecordTooLarge = errors.New("record too large")

// capReader fails once its reader has given max bytes, so that a json.Decoder's buffer, which
// grows to hold a whole value, never holds more than one record and the slack around it.
type capReader struct {
	r        io.Reader
	pos, max int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.pos >= c.max {
		return 0, errRecordTooLarge
	}
	if int64(len(p)) > c.max-c.pos {
		p = p[:c.max-c.pos]
	}
	n, err := c.r.Read(p)
	c.pos += int64(n)
	return n, err
}
