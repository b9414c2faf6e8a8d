// Package natsaddr chooses the embedded NATS server's listen address and records it in the data
// dir: when the configured port is taken (a machine that already runs a nats-server on 4222, say),
// the embedded server takes a free loopback port instead of failing, because `make run` must start
// on any machine, and local scripts find the address in File. Choosing and recording are apart:
// File is written only once the server listens, so a second service refused by the data dir's
// lock does not overwrite the first one's address, and a port 0 is recorded as the port taken.
package natsaddr

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// File names the file, in the data dir, that holds the embedded server's actual listen address,
// for local scripts; `syndicate events tail` reads the NATS context, which has it too.
const File = "nats.addr"

// Choose returns the address the embedded server should listen on: listen, or a free port on
// the same host when listen is taken, which it logs. An empty listen (no listener) is returned as
// is.
func Choose(listen string, log *slog.Logger) (string, error) {
	if listen == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", listen)
	if err == nil {
		ln.Close()
	} else if errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(listen)
		if ln, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			return "", fmt.Errorf("natsaddr: embedded NATS: %s is taken and no free port was found: %w", listen, err)
		}
		free := ln.Addr().String()
		ln.Close()
		log.Warn("nats.listen is taken (another NATS server?); the embedded server listens elsewhere",
			slog.String("configured", listen), slog.String("listening", free), slog.String("address_file", File))
		listen = free
	}
	return listen, nil
}

// Record writes addr, where the embedded server listens now, to File in dataDir.
func Record(dataDir, addr string) error {
	if err := os.WriteFile(filepath.Join(dataDir, File), []byte(addr+"\n"), 0o644); err != nil {
		return fmt.Errorf("natsaddr: record the NATS address: %w", err)
	}
	return nil
}
