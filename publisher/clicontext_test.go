package publisher

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EmbeddedCredentials: configured credentials win and generate nothing; none configured
// generates a password into the data dir once and reads it back after; a user without a
// password is refused.
func TestEmbeddedCredentials(t *testing.T) {
	tests := []struct {
		name           string
		user, password string
		wantUser       string
		wantPassword   string // "" = generated
		wantErr        string
	}{
		{name: "configured", user: "feeds", password: "chosen", wantUser: "feeds", wantPassword: "chosen"},
		{name: "password only", password: "chosen", wantUser: EmbeddedUser, wantPassword: "chosen"},
		{name: "generated", wantUser: EmbeddedUser},
		{name: "user without password", user: "feeds", wantErr: "nats.user is set without nats.password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			user, password, err := EmbeddedCredentials(dir, tt.user, tt.password, discardLog())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, statErr := os.Stat(filepath.Join(dir, PasswordFile))
			if tt.wantPassword != "" {
				if user != tt.wantUser || password != tt.wantPassword {
					t.Errorf("got %q/%q, want %q/%q", user, password, tt.wantUser, tt.wantPassword)
				}
				if statErr == nil {
					t.Error("a password was generated although one is configured")
				}
				return
			}
			if user != tt.wantUser || len(password) < 32 || statErr != nil {
				t.Fatalf("got %q and a password of %d characters (%v), want %q and a long saved one", user, len(password), statErr, tt.wantUser)
			}
			if _, again, err := EmbeddedCredentials(dir, "", "", discardLog()); err != nil || again != password {
				t.Errorf("second start: %q, %v; want the saved password back", again, err)
			}
		})
	}
}

// WriteCLIContext writes a private context file, replacing a wider older one, that
// ReadCLIContext reads back; a missing or url-less file is an error.
func TestCLIContextFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadCLIContext(dir); err == nil {
		t.Error("read a context that was never written")
	}
	path := filepath.Join(dir, ContextFile)
	if err := os.WriteFile(path, []byte(`{"user":"old"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCLIContext(dir); err == nil || !strings.Contains(err.Error(), "has no url") {
		t.Errorf("read a context without url: %v", err)
	}
	if err := WriteCLIContext(dir, "127.0.0.1:4222", "syndicate", "pw", discardLog()); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCLIContext(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "nats://127.0.0.1:4222" || c.User != "syndicate" || c.Password != "pw" || !strings.Contains(c.Description, dir) {
		t.Errorf("context read back: %+v", c)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("context file mode %#o, want 0600", m)
	}
	if left, _ := filepath.Glob(path + ".*"); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
