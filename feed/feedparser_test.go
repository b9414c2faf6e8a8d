package feed

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	syndicate "github.com/yongzhou-news/syndicate"
)

// systemPython is Debian's interpreter, where apt installs python3-feedparser; the python3 first
// on PATH may be a pyenv one without it.
const systemPython = "/usr/bin/python3"

// feedparserScript parses each file named on the command line and prints, as JSON, what the
// test asserts on. bozo is feedparser's "this feed is not well-formed" flag. feedparser reads
// JSON Feed only from 6.1 on (Debian bookworm ships 6.0.10); with an older one a .json file is
// checked against JSON Feed 1.1's required members with the standard library instead, and the
// version reported says so.
const feedparserScript = `
import importlib.util, json, sys
import feedparser

def entry(e):
    return {"id": e.get("id", ""), "link": e.get("link", ""), "title": e.get("title", ""),
            "dated": bool(e.get("published_parsed") or e.get("updated_parsed"))}

def jsonfeed(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    ok = d.get("version") == "https://jsonfeed.org/version/1.1" and bool(d.get("title")) and isinstance(d.get("items"), list)
    return {"bozo": 0 if ok else 1, "error": "" if ok else "missing version, title or items",
            "version": "json-stdlib", "entries": [
                {"id": i.get("id", ""), "link": i.get("url", ""), "title": i.get("title", ""),
                 "dated": bool(i.get("date_published") or i.get("date_modified"))} for i in d["items"]]}

has_json = importlib.util.find_spec("feedparser.parsers.json") is not None
out = []
for path in sys.argv[1:]:
    if path.endswith(".json") and not has_json:
        out.append(jsonfeed(path))
        continue
    headers = {"content-type": "application/feed+json"} if path.endswith(".json") else None
    d = feedparser.parse(path, response_headers=headers)
    out.append({"bozo": int(d.bozo), "error": str(d.get("bozo_exception", "")),
                "version": d.get("version", ""), "entries": [entry(e) for e in d.entries]})
print(json.dumps(out))
`

// TestFeedparser validates the rendered fixture feeds with the Universal Feed Parser, the
// reference most feed readers were tested against: the subscription feed, and the same items as
// an RFC 5005 archive page.
func TestFeedparser(t *testing.T) {
	if _, err := os.Stat(systemPython); err != nil {
		t.Skipf("%s not found: install python3 and python3-feedparser (apt-get install python3-feedparser)", systemPython)
	}
	if out, err := exec.Command(systemPython, "-c", "import feedparser").CombinedOutput(); err != nil {
		t.Skipf("%s cannot import feedparser (%v: %s); apt-get install python3-feedparser", systemPython, err, strings.TrimSpace(string(out)))
	}
	for _, a := range []Archive{{Pages: 3}, {Page: 2, Pages: 3}} {
		t.Run(fmt.Sprintf("page %d of %d", a.Page, a.Pages), func(t *testing.T) {
			in := fixtureInput(t, richArticle(t), fixtureArticle(t))
			in.Archive = a
			feedparserCheck(t, in)
		})
	}
}

func feedparserCheck(t *testing.T, in Input) {
	t.Helper()
	out, err := RenderAll(in)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"-c", feedparserScript}
	for _, f := range syndicate.Formats {
		path := filepath.Join(dir, "lingling."+f)
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
	var results []struct {
		Bozo    int
		Error   string
		Version string
		Entries []struct {
			ID, Link, Title string
			Dated           bool
		}
	}
	if err := json.Unmarshal(stdout, &results); err != nil {
		t.Fatalf("feedparser output %q: %v", stdout, err)
	}
	wantVersion := map[string]string{syndicate.FormatRSS: "rss20", syndicate.FormatAtom: "atom10"}
	for i, f := range syndicate.Formats {
		r := results[i]
		t.Logf("%s: parsed as %s", f, r.Version)
		if w, ok := wantVersion[f]; ok && r.Version != w {
			t.Errorf("%s: feedparser says version %q, want %q", f, r.Version, w)
		}
		if r.Bozo != 0 {
			t.Errorf("%s: feedparser bozo=%d: %s", f, r.Bozo, r.Error)
		}
		if len(r.Entries) != len(in.Items) {
			t.Fatalf("%s (%s): %d entries, want %d", f, r.Version, len(r.Entries), len(in.Items))
		}
		for j, e := range r.Entries {
			if e.ID != testSite.ItemID(in.Items[j].ID) || e.Link == "" || e.Title == "" || !e.Dated {
				t.Errorf("%s entry %d: %+v lacks id, link, title or date", f, j, e)
			}
		}
	}
}
