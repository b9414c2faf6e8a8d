package syndicate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// DecodeResult is one input record: the decoded article, or why it was rejected.
type DecodeResult struct {
	Index   int // position in the input, from 0
	Article Article
	Err     error
	// Size is the record's bytes as sent, set by Decoder (0 for a record it did not hold, too
	// large or cut off): what the record weighs in memory, which its text alone may not show (a
	// list of a million empty strings).
	Size int
}

// DecodeArticles reads all of a small input (the demo data, a test's records) with the default
// limits; see Decoder for bodies of any size. A malformed record is reported in its own result
// and does not stop the others; the error says why the input as a whole could not be read.
func DecodeArticles(r io.Reader) ([]DecodeResult, error) {
	d := NewDecoder(r, DefaultLimits())
	var out []DecodeResult
	for rec := range d.Records() {
		out = append(out, rec)
	}
	return out, d.Err()
}

// articleFields maps each JSON key of an article to its field's index in Article.
var articleFields = func() map[string]int {
	m := map[string]int{}
	t := reflect.TypeFor[Article]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "-" {
			m[name] = i
		}
	}
	return m
}()

// DecodeArticle decodes one JSON object strictly: an unknown key or a value of the wrong type is
// an EINVALID error naming the field. Keys starting with "_" are comments and are ignored.
//
// Invalid UTF-8 is an error naming the field that holds it, and so is an escaped lone surrogate
// (\ud800 without its pair): encoding/json would otherwise turn either into U+FFFD and store an
// article nobody sent.
func DecodeArticle(raw []byte) (Article, error) {
	a, err := decodeArticle(raw)
	if e, ok := err.(*Error); ok && e.Field == "id" {
		return Article{}, err // the id itself is what is wrong
	}
	if err != nil {
		// The report names the record by its id too, when one can be read: the field at fault
		// may come before it, or be the only thing wrong with an otherwise good record.
		return Article{ID: recordID(raw)}, err
	}
	return a, nil
}

// recordID is the id of a record that did not decode, or "" when it has none that can be read.
func recordID(raw []byte) string {
	var r struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &r) != nil || !utf8.ValidString(r.ID) || len(r.ID) > MaxArticleIDLen {
		return ""
	}
	return r.ID
}

func decodeArticle(raw []byte) (Article, error) {
	// A token at a time, each value straight into its field: a record of a million keys costs
	// one value at a time, not a map of them all, and is never encoded a second time.
	var a Article
	notObject := func(err error) (Article, error) {
		return Article{}, FieldError("body", "is not a JSON object: %s", describeJSONError(raw, err))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return notObject(err)
	}
	if tok != json.Delim('{') {
		return Article{}, FieldError("body", "is not a JSON object")
	}
	validUTF8 := utf8.Valid(raw)
	v := reflect.ValueOf(&a).Elem()
	var seen uint64 // article fields already set, by index: a repeated key is refused, not "last wins"
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return notObject(err)
		}
		k, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return notObject(err)
		}
		if !validUTF8 && !utf8.Valid(value) {
			return Article{}, FieldError(Shorten(k, 64), "is not valid UTF-8 (record byte %d)", invalidAt(raw))
		}
		if !validUTF8 && strings.ContainsRune(k, utf8.RuneError) { // encoding/json replaced it
			return Article{}, FieldError("body", "has a key that is not valid UTF-8 (record byte %d)", invalidAt(raw))
		}
		if strings.HasPrefix(k, "_") {
			continue
		}
		i, ok := articleFields[k]
		if !ok {
			return Article{}, FieldError(Shorten(k, 64), "is not an article field")
		}
		if seen&(1<<i) != 0 {
			return Article{}, FieldError(k, "appears twice in the record: which one is meant?")
		}
		seen |= 1 << i
		if at := loneSurrogate(value); at >= 0 {
			return Article{}, FieldError(k, "holds %s at byte %d of its value: half of a UTF-16 surrogate pair, which is no character", value[at:at+6], at)
		}
		if err := decodeField(k, value, v.Field(i)); err != nil {
			return Article{}, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return notObject(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Article{}, FieldError("body", "holds more than one JSON object")
	}
	if !validUTF8 { // in a key
		return Article{}, FieldError("body", "is not valid UTF-8 (record byte %d)", invalidAt(raw))
	}
	return a, nil
}

var timeType = reflect.TypeFor[time.Time]()

func decodeField(key string, raw json.RawMessage, field reflect.Value) error {
	if field.Type() == timeType {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return FieldError(key, "must be an RFC 3339 string")
		}
		if s == "" {
			return nil
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return FieldError(key, "%q is not an RFC 3339 time (e.g. 2022-11-16T08:00:00+08:00)", Shorten(s, 64))
		}
		field.Set(reflect.ValueOf(t))
		return nil
	}
	if err := json.Unmarshal(raw, field.Addr().Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return FieldError(key, "must be %s, not %s", jsonKind(field.Type()), te.Value)
		}
		return FieldError(key, "%v", err)
	}
	return nil
}

// loneSurrogate returns the offset in v, a JSON value, of the first \uXXXX escape of a UTF-16
// surrogate that is not half of a high-low pair, or -1. JSON allows the escape; it encodes no
// character, and encoding/json decodes it as U+FFFD.
func loneSurrogate(v []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(v[i:], '\\')
		if j < 0 {
			return -1
		}
		i += j
		if i+6 > len(v) || v[i+1] != 'u' {
			i += 2 // \\, \" and the like; a cut escape is the JSON decoder's error
			if i >= len(v) {
				return -1
			}
			continue
		}
		switch r := hex4(v[i+2 : i+6]); {
		case r >= 0xD800 && r < 0xDC00: // high: a low one must follow
			if i+12 <= len(v) && v[i+6] == '\\' && v[i+7] == 'u' {
				if lo := hex4(v[i+8 : i+12]); lo >= 0xDC00 && lo < 0xE000 {
					i += 12
					continue
				}
			}
			return i
		case r >= 0xDC00 && r < 0xE000:
			return i
		}
		i += 6
	}
}

// hex4 is the value of four hex digits, or -1.
func hex4(b []byte) int {
	n := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return -1
		}
	}
	return n
}

// invalidAt returns the offset of the first byte in b that is not UTF-8.
func invalidAt(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "an array of strings"
	case reflect.Struct:
		return "an RFC 3339 string"
	default:
		return t.String()
	}
}

func describeJSONError(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line := 1 + bytes.Count(data[:min(int(se.Offset), len(data))], []byte("\n"))
		return fmt.Sprintf("%v (line %d, byte %d)", se, line, se.Offset)
	}
	return err.Error()
}
