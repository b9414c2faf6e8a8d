package datadir_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/yongzhou-news/syndicate/internal/datadir"
)

// TestSecret: a missing or blank file gets a generated secret, a saved one is read back, and the
// file ends private whatever mode it had.
func TestSecret(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" with mode 0: no file
		mode    os.FileMode
		want    string // "" = generated
	}{
		{"missing", "", 0, ""},
		{"blank, widened", " \n", 0o644, ""},
		{"saved", "s3cret\n", 0o600, "s3cret"},
		{"saved, widened", "s3cret\n", 0o644, "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if tt.mode != 0 {
				if err := os.MkdirAll(dir, 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(tt.content), tt.mode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(filepath.Join(dir, "secret"), tt.mode); err != nil { // past the umask
					t.Fatal(err)
				}
			}
			got, path, created, err := datadir.Secret(dir, "secret")
			if err != nil {
				t.Fatal(err)
			}
			if path != filepath.Join(dir, "secret") {
				t.Errorf("path %q", path)
			}
			if tt.want == "" {
				if !created || len(got) != 48 {
					t.Errorf("got %q created %v, want a generated 48-digit secret", got, created)
				}
			} else if got != tt.want || created {
				t.Errorf("got %q created %v, want %q read back", got, created, tt.want)
			}
			if fi, err := os.Stat(path); err != nil {
				t.Error(err)
			} else if m := fi.Mode().Perm(); m != 0o600 {
				t.Errorf("file mode %#o, want 0600", m)
			}
			again, _, created, err := datadir.Secret(dir, "secret")
			if err != nil || again != got || created {
				t.Errorf("second call: %q created %v err %v, want %q read back", again, created, err, got)
			}
		})
	}
}
