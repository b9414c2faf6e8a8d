package app_test

import (
	"context"
	"encoding/json"
	"errors"
	gobuild "go/build"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/publisher"
)

// listeningApp starts the service on dataDir with the embedded server listening on a free
// loopback port, and returns it with the context it wrote.
func listeningApp(t *testing.T, dataDir string, env ...string) (*app.App, publisher.CLIContext) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return listeningAppOn(t, dataDir, addr, env...)
}

// listeningAppOn is listeningApp on a given address, for a restart on the same port.
func listeningAppOn(t *testing.T, dataDir, addr string, env ...string) (*app.App, publisher.CLIContext) {
	t.Helper()
	cfg, err := config.Load("", append([]string{"SYNDICATE_DATA_DIR=" + dataDir, "SYNDICATE_NATS_LISTEN=" + addr,
		"SYNDICATE_DEMO=false", "SYNDICATE_ADMIN_TOKEN=t"}, env...))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	nc, err := publisher.ReadCLIContext(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if nc.URL != "nats://"+addr {
		t.Errorf("context url %q, want nats://%s", nc.URL, addr)
	}
	return a, nc
}

// checkPrivate fails unless the file is readable and writable by its owner only.
func checkPrivate(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("%s has mode %#o, want 0600", filepath.Base(path), m)
	}
}

// connectStream logs in with c and reads the item stream.
func connectStream(t *testing.T, c publisher.CLIContext) error {
	t.Helper()
	nc, err := nats.Connect(c.URL, nats.UserInfo(c.User, c.Password), nats.NoReconnect())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = js.Stream(ctx, "SYNDICATE_ITEMS")
	return err
}

// TestEmbeddedNATSCredentials: the embedded listener refuses a client without the generated
// password; the password and the nats CLI context are private files in the data dir, and the
// same data dir gives the same credentials after a restart, even to a client configured before it.
func TestEmbeddedNATSCredentials(t *testing.T) {
	dir := t.TempDir()
	a, first := listeningApp(t, dir)

	if nc, err := nats.Connect(first.URL, nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("a client without credentials connected to the embedded server")
	} else if !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("connect without credentials: %v, want an authorization violation", err)
	}
	if err := connectStream(t, first); err != nil {
		t.Fatalf("connect with the context's credentials: %v", err)
	}
	if first.User != publisher.EmbeddedUser || len(first.Password) < 32 {
		t.Errorf("context user %q, password of %d characters: want %q and a long random one", first.User, len(first.Password), publisher.EmbeddedUser)
	}
	saved, err := os.ReadFile(filepath.Join(dir, publisher.PasswordFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(saved)) != first.Password {
		t.Error("the context's password is not the saved one")
	}
	checkPrivate(t, filepath.Join(dir, publisher.PasswordFile))
	checkPrivate(t, filepath.Join(dir, publisher.ContextFile))

	// The keys the nats CLI reads (natscontext settings: url, user, password), nothing missing.
	raw, err := os.ReadFile(filepath.Join(dir, publisher.ContextFile))
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("context file is not JSON: %v\n%s", err, raw)
	}
	for _, k := range []string{"url", "user", "password", "description"} {
		if s, ok := fields[k].(string); !ok || s == "" {
			t.Errorf("context file: %q is %v, want a non-empty string", k, fields[k])
		}
	}

	// A client that stays connected through the restart, and reconnects with its credentials.
	reconnected := make(chan struct{}, 1)
	kept, err := nats.Connect(first.URL, nats.UserInfo(first.User, first.Password),
		nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond),
		nats.ReconnectHandler(func(*nats.Conn) { reconnected <- struct{}{} }))
	if err != nil {
		t.Fatal(err)
	}
	defer kept.Close()

	// A restart on the same data dir and port: a copy or backup widened the files' mode meanwhile.
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{publisher.PasswordFile, publisher.ContextFile} {
		if err := os.Chmod(filepath.Join(dir, f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, second := listeningAppOn(t, dir, strings.TrimPrefix(first.URL, "nats://"))
	if second != first {
		t.Errorf("the context changed across a restart on the same data dir and port:\n%+v\n%+v", first, second)
	}
	select {
	case <-reconnected:
	case <-time.After(20 * time.Second):
		t.Fatalf("a client of the first start did not reconnect after the restart: %v", kept.LastError())
	}
	// A client configured from the first start's context still logs in.
	if err := connectStream(t, first); err != nil {
		t.Errorf("connect with the first start's credentials after the restart: %v", err)
	}
	checkPrivate(t, filepath.Join(dir, publisher.PasswordFile))
	checkPrivate(t, filepath.Join(dir, publisher.ContextFile))

	// Another data dir, another password.
	_, other := listeningApp(t, t.TempDir())
	if other.Password == first.Password {
		t.Error("two data dirs generated the same password")
	}
}

// TestEmbeddedNATSConfiguredPassword: nats.user and nats.password, when set, are the embedded
// server's credentials, and nothing is generated.
func TestEmbeddedNATSConfiguredPassword(t *testing.T) {
	dir := t.TempDir()
	_, c := listeningApp(t, dir, "SYNDICATE_NATS_USER=feeds", "SYNDICATE_NATS_PASSWORD=chosen-password")
	if c.User != "feeds" || c.Password != "chosen-password" {
		t.Errorf("context has %q/%q, want the configured feeds/chosen-password", c.User, c.Password)
	}
	if err := connectStream(t, c); err != nil {
		t.Errorf("connect with the configured credentials: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, publisher.PasswordFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a password was generated although one is configured: %v", err)
	}
	checkPrivate(t, filepath.Join(dir, publisher.ContextFile))
}

// TestNATSCLIContext: the nats CLI, given the context file's path, reaches the stream; run only
// where the CLI is installed (bench/run.sh installs natscli v0.5.0).
func TestNATSCLIContext(t *testing.T) {
	cli, err := exec.LookPath("nats")
	if err != nil {
		// Where bench/run.sh's `go install` puts it.
		cli = filepath.Join(gobuild.Default.GOPATH, "bin", "nats")
		if _, err := os.Stat(cli); err != nil {
			t.Skip("the nats CLI is not installed (go install github.com/nats-io/natscli/nats@v0.5.0)")
		}
	}
	dir := t.TempDir()
	_, nc := listeningApp(t, dir)
	ctxFile := filepath.Join(dir, publisher.ContextFile)
	// An empty configuration directory: the CLI must need no saved or selected context.
	env := append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	tests := []struct {
		name string
		args []string
		env  []string
	}{
		{"--context", []string{"--context", ctxFile, "stream", "info", "SYNDICATE_ITEMS", "--json"}, nil},
		{"NATS_CONTEXT", []string{"stream", "info", "SYNDICATE_ITEMS", "--json"}, []string{"NATS_CONTEXT=" + ctxFile}},
		{"--user --password", []string{"--server", nc.URL, "--user", nc.User, "--password", nc.Password, "stream", "info", "SYNDICATE_ITEMS", "--json"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(cli, tt.args...)
			cmd.Env = append(env, tt.env...)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), `"SYNDICATE_ITEMS"`) {
				t.Errorf("nats %s: %v\n%s", strings.Join(tt.args, " "), err, out)
			}
		})
	}
	// Without the context the CLI is refused.
	cmd := exec.Command(cli, "--server", nc.URL, "stream", "ls")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("nats stream ls without credentials succeeded:\n%s", out)
	}
}
