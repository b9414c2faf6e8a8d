package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/natsaddr"
)

// TestNATSAddrFile: with nats.listen on port 0, nats.addr holds the port the embedded server
// took; a second service on the same data dir, refused by the store dir's lock, leaves the file
// as the first one wrote it.
func TestNATSAddrFile(t *testing.T) {
	dir := t.TempDir()
	newApp := func() (*app.App, error) {
		cfg, err := config.Load("", []string{"SYNDICATE_DATA_DIR=" + dir, "SYNDICATE_NATS_LISTEN=127.0.0.1:0",
			"SYNDICATE_DEMO=false", "SYNDICATE_ADMIN_TOKEN=t"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	readAddr := func() string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, natsaddr.File))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}

	first, err := newApp()
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close(context.Background())
	addr := readAddr()
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "0" || addr != first.NATS.EmbeddedAddr() {
		t.Fatalf("%s holds %q, want the address the server listens on, %s", natsaddr.File, addr, first.NATS.EmbeddedAddr())
	}
	if conn, err := net.Dial("tcp", addr); err != nil {
		t.Errorf("nothing listens at the recorded %s: %v", addr, err)
	} else {
		conn.Close()
	}

	second, err := newApp()
	if err == nil {
		second.Close(context.Background())
		t.Fatal("a second service on the same data dir started")
	}
	if got := readAddr(); got != addr {
		t.Errorf("after the refused second start %s holds %q, want the first's %q", natsaddr.File, got, addr)
	}
}
