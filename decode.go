package syndicate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"
)

// DecodeResult is one input record: the decoded article, or why it was rejected.
type DecodeResult struct {
	Index   int // position in the input, from 0
	Article Article
	Err     error
}

// DecodeArticles reads one JSON object, a JSON array of objects, or JSON Lines. A malformed record
// is reported in its own result and does not stop the others; an error is returned only when the
// input as a whole cannot be read.
func DecodeArticles(r io.Reader) ([]DecodeResult, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read articles: %w", err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, FieldError("body", "is empty: send a JSON object, an array of objects or JSON Lines")
	}
	var raws []json.RawMessage
	var results []DecodeResult
	switch trimmed[0] {
	case '[':
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, FieldError("body", "is not a JSON array of articles: %s", describeJSONError(trimmed, err))
		}
	default:
		// One object, or JSON Lines: a line that does not parse is rejected on its own.
		if json.Valid(trimmed) {
			raws = []json.RawMessage{trimmed}
			break
		}
		sc := bufio.NewScanner(bytes.NewReader(trimmed))
		sc.Buffer(make([]byte, 0, 64*1024), 64<<20)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 {
				continue
			}
			raws = append(raws, append(json.RawMessage(nil), line...))
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read JSON lines: %w", err)
		}
	}
	for i, raw := range raws {
		a, err := DecodeArticle(raw)
		results = append(results, DecodeResult{Index: i, Article: a, Err: err})
	}
	return results, nil
}

var articleFields = func() map[string]bool {
	m := map[string]bool{}
	t := reflect.TypeFor[Article]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = true
	}
	return m
}()

// DecodeArticle decodes one JSON object strictly: an unknown key or a value of the wrong type is
// an EINVALID error naming the field. Keys starting with "_" are comments and are ignored.
func DecodeArticle(raw []byte) (Article, error) {
	var a Article
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return a, FieldError("body", "is not a JSON object: %s", describeJSONError(raw, err))
	}
	for k := range fields {
		if !articleFields[k] && !strings.HasPrefix(k, "_") {
			return a, FieldError(k, "is not an article field")
		}
	}
	for k, v := range fields {
		if strings.HasPrefix(k, "_") {
			delete(fields, k)
			continue
		}
		if k == "published_at" || k == "updated_at" {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return a, FieldError(k, "must be an RFC 3339 string")
			}
			if s != "" {
				if _, err := time.Parse(time.RFC3339, s); err != nil {
					return a, FieldError(k, "%q is not an RFC 3339 time (e.g. 2022-11-16T08:00:00+08:00)", s)
				}
			} else {
				delete(fields, k)
			}
		}
	}
	clean, err := json.Marshal(fields)
	if err != nil {
		return a, fmt.Errorf("re-encode article: %w", err)
	}
	if err := json.Unmarshal(clean, &a); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return a, FieldError(te.Field, "must be %s, not %s", jsonKind(te.Type), te.Value)
		}
		return a, FieldError("body", "%v", err)
	}
	return a, nil
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
