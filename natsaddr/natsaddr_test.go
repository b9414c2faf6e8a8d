package natsaddr_test

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/natsaddr"
)

func TestChoose(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()

	tests := []struct {
		name, listen string
		check        func(t *testing.T, got string)
	}{
		{"free port kept", freeAddr, func(t *testing.T, got string) {
			if got != freeAddr {
				t.Errorf("got %q, want %q", got, freeAddr)
			}
		}},
		{"taken port replaced", taken.Addr().String(), func(t *testing.T, got string) {
			host, port, err := net.SplitHostPort(got)
			if err != nil || host != "127.0.0.1" || got == taken.Addr().String() || port == "0" {
				t.Errorf("got %q (err %v), want another port on 127.0.0.1", got, err)
			}
			ln, err := net.Listen("tcp", got)
			if err != nil {
				t.Errorf("chosen address %s is not free: %v", got, err)
			} else {
				ln.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := natsaddr.Choose(tt.listen, log)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, got)
		})
	}
	t.Run("no listener", func(t *testing.T) {
		if got, err := natsaddr.Choose("", log); got != "" || err != nil {
			t.Errorf("got %q, %v", got, err)
		}
	})
}

func TestRecord(t *testing.T) {
	dir := t.TempDir()
	for _, addr := range []string{"127.0.0.1:4222", "127.0.0.1:34567"} {
		if err := natsaddr.Record(dir, addr); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, natsaddr.File))
		if err != nil || strings.TrimSpace(string(b)) != addr {
			t.Errorf("%s holds %q (err %v), want %q", natsaddr.File, b, err, addr)
		}
	}
}
