package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/web"
)

// Configured tokens win and touch no file; without them, the first start generates a token
// only the owner can read, and later starts read the same one back.
func TestAdminTokens(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := filepath.Join(t.TempDir(), "data")

	got, file, err := web.AdminTokens(" a, ,b ", dir, log)
	if err != nil || file != "" || !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("configured: tokens %q file %q err %v", got, file, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("configured tokens created the data dir: %v", err)
	}

	first, file, err := web.AdminTokens("", dir, log)
	if err != nil || len(first) != 1 || len(first[0]) != 48 {
		t.Fatalf("generated: tokens %q err %v", first, err)
	}
	if want := filepath.Join(dir, web.AdminTokenFile); file != want {
		t.Errorf("file = %q, want %q", file, want)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, mode %v", err, fi.Mode())
	}
	again, _, err := web.AdminTokens("", dir, log)
	if err != nil || !slices.Equal(again, first) {
		t.Errorf("second start: tokens %q, want %q (err %v)", again, first, err)
	}
}

// A token file copied or restored with a wider mode is narrowed to its owner at start, as the
// NATS password file is: the token opens the admin API.
func TestAdminTokenFileNarrowed(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	path := filepath.Join(dir, web.AdminTokenFile)
	if err := os.WriteFile(path, []byte("restored-token\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // past the umask
		t.Fatal(err)
	}
	got, _, err := web.AdminTokens("", dir, log)
	if err != nil || !slices.Equal(got, []string{"restored-token"}) {
		t.Fatalf("tokens %q err %v, want the restored one", got, err)
	}
	if fi, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("token file mode %#o after start, want 0600", m)
	}
}

// A configured token short enough to guess is accepted (clients may already use it) and warned
// about at start-up, by its position in the list, never by its value.
func TestShortAdminTokenWarned(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	got, _, err := web.AdminTokens("a,"+strings.Repeat("k", web.MinTokenBytes), t.TempDir(), log)
	if err != nil || len(got) != 2 {
		t.Fatalf("tokens %q, %v", got, err)
	}
	if n := strings.Count(logs.String(), "short enough to guess"); n != 1 || !strings.Contains(logs.String(), "token=1") {
		t.Errorf("%d warnings, want one naming token 1:\n%s", n, logs.String())
	}
}
