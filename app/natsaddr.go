package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// NATSAddrFile names the file, in the data dir, that holds the embedded server's actual listen
// address, for local scripts; `syndicate events tail` reads NATSContextFile, which has it too.
const NATSAddrFile = "nats.addr"

// embeddedListen returns the address the embedded server should listen on. When the configured
// one is taken (on a machine that already runs a nats-server on 4222, say), it picks a free
// loopback port instead of failing, says so, and records the choice in NATSAddrFile: `make run`
// must start on any machine.
func (a *App) embeddedListen(listen string) (string, error) {
	if listen == "" {
		return "", nil
	}
	ln, err := net.Listen("tcp", listen)
	if err == nil {
		ln.Close()
	} else if errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(listen)
		if ln, err = net.Listen("tcp", net.JoinHostPort(host, "0")); err != nil {
			return "", fmt.Errorf("app: embedded NATS: %s is taken and no free port was found: %w", listen, err)
		}
		free := ln.Addr().String()
		ln.Close()
		a.Log.Warn("nats.listen is taken (another NATS server?); the embedded server listens elsewhere",
			slog.String("configured", listen), slog.String("listening", free),
			slog.String("address_file", filepath.Join(a.Config.DataDir, NATSAddrFile)))
		listen = free
	}
	if err := os.MkdirAll(a.Config.DataDir, 0o750); err != nil {
		return "", fmt.Errorf("app: create data dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(a.Config.DataDir, NATSAddrFile), []byte(listen+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("app: record the NATS address: %w", err)
	}
	return listen, nil
}

// redactURLs hides the passwords of a comma-separated list of NATS URLs, for messages.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			parts[i] = u.Redacted()
		}
	}
	return strings.Join(parts, ",")
}
