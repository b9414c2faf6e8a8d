package feed

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
	syndicate "github.com/yongzhou-news/syndicate"
	"golang.org/x/net/html"
)

// readerItem is one item as a feed reader shows it: every field is the visible text (HTML
// fields are parsed, plain ones taken as they are) except Content, which stays HTML.
type readerItem struct {
	Title, Summary string
	Authors        []string
	Tags           []string
	Content        string // HTML
	ContentText    string // JSON Feed content_text
	// Markup lists fields that hold live markup as the reader reads them: a plain-text field
	// with something tag-like, an HTML field with any element.
	Markup []string
}

// readerFeed is a whole feed as one reader shows it.
type readerFeed struct {
	Reader      string // gofeed, feedparser, json-stdlib
	Title       string
	Tags        []string
	Authors     []string // feed-level authors
	Items       []readerItem
	Markup      []string
	RawJSONKeys []string // JSON Feed: top-level members, from the bytes
}

// readersScript prints what Python's feedparser (RSS, Atom) shows of each file, with each text
// field's type, as JSON. feedparser reads JSON Feed only from 6.1 (bookworm has 6.0.10): a .json
// file is then read with the standard library, as a reader without a JSON Feed library would.
const readersScript = `
import importlib.util, json, sys
import feedparser

def det(e, key):
    d = e.get(key + "_detail") or {}
    return {"value": d.get("value", e.get(key, "")), "type": d.get("type", "text/plain")}

def fp(path):
    d = feedparser.parse(path)
    return {"reader": "feedparser", "bozo": int(d.bozo), "error": str(d.get("bozo_exception", "")),
            "title": det(d.feed, "title"), "tags": [t.get("term") or "" for t in d.feed.get("tags", [])],
            "authors": [a.get("name", "") for a in d.feed.get("authors", []) if a.get("name")],
            "items": [{"title": det(e, "title"), "summary": det(e, "summary"),
                       "authors": [a.get("name", "") for a in e.get("authors", []) if a.get("name")],
                       "author": e.get("author", ""),
                       "tags": [t.get("term") or "" for t in e.get("tags", [])],
                       "content": [{"value": c.value, "type": c.type} for c in e.get("content", [])]}
                      for e in d.entries]}

def plain(v):
    return {"value": v or "", "type": "text/plain"}

def js(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    return {"reader": "json-stdlib", "bozo": 0, "error": "", "keys": sorted(d.keys()),
            "title": plain(d.get("title")), "tags": [],
            "authors": [a.get("name", "") for a in d.get("authors", [])],
            "items": [{"title": plain(i.get("title")), "summary": plain(i.get("summary")),
                       "authors": [a.get("name", "") for a in i.get("authors", [])], "author": "",
                       "tags": i.get("tags", []),
                       "content": ([{"value": i["content_html"], "type": "text/html"}] if "content_html" in i else []) +
                                  ([{"value": i["content_text"], "type": "text/plain"}] if "content_text" in i else [])}
                      for i in d["items"]]}

has_json = importlib.util.find_spec("feedparser.parsers.json") is not None
print(json.dumps([js(p) if p.endswith(".json") and not has_json else fp(p) for p in sys.argv[1:]]))
`

// requireFeedparser skips the test when Debian's python3-feedparser is missing.
func requireFeedparser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("%s not found: install python3 and python3-feedparser (apt-get install python3-feedparser)", systemPython)
	}
	if out, err := exec.Command(systemPython, "-c", "import feedparser").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import feedparser (%v: %s); apt-get install python3-feedparser", systemPython, err, strings.TrimSpace(string(out)))
	}
}

// readAll renders in and reads every format with gofeed and with feedparser (or, for JSON Feed
// where feedparser cannot, the standard library). The result maps format to the readers' views.
func readAll(t *testing.T, in Input) map[string][]readerFeed {
	t.Helper()
	requireFeedparser(t)
	out, err := RenderAll(in)
	if err != nil {
		t.Fatal(err)
	}
	views := map[string][]readerFeed{}
	dir := t.TempDir()
	args := []string{"-c", readersScript}
	for _, f := range syndicate.Formats {
		views[f] = append(views[f], readGofeed(t, f, out[f]))
		path := filepath.Join(dir, "feed."+f)
		if err := os.WriteFile(path, out[f], 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	cmd := exec.Command(systemPython, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("feedparser: %v", err)
	}
	type text struct{ Value, Type string }
	var results []struct {
		Reader, Error string
		Bozo          int
		Keys          []string
		Title         text
		Tags, Authors []string
		Items         []struct {
			Title, Summary text
			Authors        []string
			Author         string
			Tags           []string
			Content        []text
		}
	}
	if err := json.Unmarshal(stdout, &results); err != nil {
		t.Fatalf("feedparser output %q: %v", stdout, err)
	}
	for i, f := range syndicate.Formats {
		r := results[i]
		if r.Bozo != 0 {
			t.Errorf("%s: %s says not well-formed: %s", f, r.Reader, r.Error)
		}
		v := readerFeed{Reader: r.Reader, Tags: r.Tags, Authors: r.Authors, RawJSONKeys: r.Keys}
		v.Title = visible(&v.Markup, "feed title", r.Title.Value, isHTMLType(r.Title.Type))
		for _, it := range r.Items {
			ri := readerItem{Authors: it.Authors, Tags: it.Tags}
			ri.Title = visible(&ri.Markup, "title", it.Title.Value, isHTMLType(it.Title.Type))
			ri.Summary = visible(&ri.Markup, "summary", it.Summary.Value, isHTMLType(it.Summary.Type))
			for _, c := range it.Content {
				if isHTMLType(c.Type) {
					ri.Content = c.Value
				} else {
					ri.ContentText = c.Value
				}
			}
			for _, a := range ri.Authors {
				checkPlain(&ri.Markup, "author", a)
			}
			for _, tag := range ri.Tags {
				checkPlain(&ri.Markup, "tag", tag)
			}
			v.Items = append(v.Items, ri)
		}
		views[f] = append(views[f], v)
	}
	return views
}

func isHTMLType(t string) bool { return strings.Contains(t, "html") }

// readGofeed reads a document as gofeed's universal model shows it. gofeed does not say which
// fields are HTML: RSS description and Atom summary type="html" are, JSON Feed summary is not.
func readGofeed(t *testing.T, format string, body []byte) readerFeed {
	t.Helper()
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("gofeed %s: %v", format, err)
	}
	v := readerFeed{Reader: "gofeed", Tags: f.Categories, Authors: names(f.Authors)}
	v.Title = visible(&v.Markup, "feed title", f.Title, false)
	for _, it := range f.Items {
		ri := readerItem{Authors: names(it.Authors), Tags: it.Categories, Content: it.Content}
		ri.Title = visible(&ri.Markup, "title", it.Title, false)
		ri.Summary = visible(&ri.Markup, "summary", it.Description, format != syndicate.FormatJSON)
		for _, a := range ri.Authors {
			checkPlain(&ri.Markup, "author", a)
		}
		for _, tag := range ri.Tags {
			checkPlain(&ri.Markup, "tag", tag)
		}
		v.Items = append(v.Items, ri)
	}
	return v
}

// tagLike is what a browser would parse as the start of a tag or comment.
var tagLike = regexp.MustCompile(`<[A-Za-z/!?]`)

func checkPlain(markup *[]string, field, s string) {
	if tagLike.MatchString(s) {
		*markup = append(*markup, field+": "+s)
	}
}

// visible returns what a reader shows of a text field, noting live markup in it.
func visible(markup *[]string, field, s string, isHTML bool) string {
	if !isHTML {
		checkPlain(markup, field, s)
		return s
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
		case html.CommentToken, html.DoctypeToken:
			*markup = append(*markup, field+": "+s)
		default:
			*markup = append(*markup, field+": "+s)
		}
	}
}
