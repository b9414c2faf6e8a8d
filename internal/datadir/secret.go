// Package datadir holds the secrets the service keeps in its data dir (the admin token, the
// embedded NATS server's password): generated on first start, read back on later ones, and
// readable by the service's user only.
package datadir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Secret returns the secret kept in the file name in dir, and the file's path. When the file is
// missing or blank it generates one (24 random bytes, hex) and saves it; created says so, for the
// caller's log. Either way the file ends readable by its owner only: one copied or restored from
// a backup with a wider mode is narrowed.
func Secret(dir, name string) (secret, path string, created bool, err error) {
	path = filepath.Join(dir, name)
	if b, err := os.ReadFile(path); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, path, false, keepPrivate(path)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", path, false, fmt.Errorf("datadir: read %s: %w", path, err)
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return "", path, false, fmt.Errorf("datadir: generate %s: %w", name, err)
	}
	secret = hex.EncodeToString(buf)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", path, false, fmt.Errorf("datadir: create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", path, false, fmt.Errorf("datadir: save %s: %w", path, err)
	}
	// WriteFile keeps the mode of a blank file that was there.
	return secret, path, true, keepPrivate(path)
}

// keepPrivate narrows a secret file that others can read to its owner.
func keepPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("datadir: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return fmt.Errorf("datadir: make %s private: %w", path, err)
		}
	}
	return nil
}
