package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/store/sqlite"
)

func TestImportReportsAndKeepsGoodRecords(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SYNDICATE_DATA_DIR", dir)
	lines := strings.Join([]string{
		`{"id":"a1","title":"零陵一","channels":["lingling"],"published_at":"2022-11-16T08:00:00+08:00"}`,
		`{"id":"a2","title":"祁阳","channels":["qiyang"],"published_at":"2022-11-16T09:00:00+08:00"}`,
		`{"id":"bad","title":"x","channels":["mars"],"published_at":"2022-11-16T09:00:00+08:00"}`,
		`{"id": "broken"`,
	}, "\n")
	file := filepath.Join(dir, "in.jsonl")
	os.WriteFile(file, []byte(lines), 0o600)

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"import", file}, nil, &out, &errOut)
	if code != 1 {
		t.Errorf("exit %d with rejected records, want 1", code)
	}
	for _, want := range []string{"created 2, updated 0, unchanged 0, rejected 2", "record 3 (bad): channels", "record 4: body"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}

	// Again, with one edit: the report says what changed.
	edited := strings.Replace(lines, "零陵一", "零陵二", 1)
	os.WriteFile(file, []byte(edited), 0o600)
	out.Reset()
	run(context.Background(), []string{"import", file}, nil, &out, &errOut)
	if !strings.Contains(out.String(), "created 0, updated 1, unchanged 1, rejected 2") {
		t.Errorf("second import report:\n%s", out.String())
	}

	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a, err := st.Article(context.Background(), "a1")
	if err != nil || a.Title != "零陵二" {
		t.Errorf("stored a1 = %+v, %v", a, err)
	}
}

func TestImportJSONArrayFromStdin(t *testing.T) {
	t.Setenv("SYNDICATE_DATA_DIR", t.TempDir())
	in := strings.NewReader(`[{"id":"a1","title":"零陵","channels":["lingling"],"published_at":"2022-11-16T08:00:00+08:00"}]`)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"import", "-"}, in, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "created 1") {
		t.Errorf("report: %s", out.String())
	}
}

func TestBadConfigNamesTheKey(t *testing.T) {
	t.Setenv("SYNDICATE_DEFAULTS_SCHEDULE", "every five minutes")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, nil, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "defaults.schedule") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
	if code := run(context.Background(), []string{"frobnicate"}, nil, &out, &errOut); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}

// TestImportReportIsCapped: the final report lists the first limits.max_rejections rejections
// and counts the rest.
func TestImportReportIsCapped(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SYNDICATE_DATA_DIR", dir)
	t.Setenv("SYNDICATE_LIMITS_MAX_REJECTIONS", "5")
	lines := []string{`{"id":"ok","title":"零陵","channels":["lingling"],"published_at":"2022-11-16T08:00:00+08:00"}`}
	for i := range 12 {
		lines = append(lines, fmt.Sprintf(`{"id":"bad-%d","channels":["lingling"],"published_at":"9999-12-31T23:59:59-08:00"}`, i))
	}
	file := filepath.Join(dir, "in.jsonl")
	os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"import", file}, nil, &out, &errOut); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if got := strings.Count(out.String(), "published_at"); got != 5 {
		t.Errorf("%d rejections listed, want 5:\n%s", got, out.String())
	}
	for _, want := range []string{"created 1, updated 0, unchanged 0, rejected 12", "and 7 more rejected records", "record 2 (bad-0): published_at"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	if !strings.Contains(errOut.String(), "12 of 13 records rejected") {
		t.Errorf("stderr: %s", errOut.String())
	}
}
