package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// AdminTokenFile names the file, in the data dir, that keeps the generated admin token.
const AdminTokenFile = "admin-token"

// AdminTokens returns the configured tokens (a comma-separated list) or, when none is
// configured, the one saved in dataDir, generating it on first start so that the admin API is
// never open. file is where the token is kept, "" when it was configured.
func AdminTokens(configured, dataDir string, log *slog.Logger) (tokens []string, file string, err error) {
	if t := SplitTokens(configured); len(t) > 0 {
		return t, "", nil
	}
	path := filepath.Join(dataDir, AdminTokenFile)
	if b, err := os.ReadFile(path); err == nil {
		if t := SplitTokens(string(b)); len(t) > 0 {
			log.Info("admin token read from file", slog.String("file", path))
			return t, path, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, path, fmt.Errorf("web: read admin token: %w", err)
	}
	buf := make([]byte, 24)
	if _, err := rand.Read(buf); err != nil {
		return nil, path, fmt.Errorf("web: generate admin token: %w", err)
	}
	token := hex.EncodeToString(buf)
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return nil, path, fmt.Errorf("web: create data dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return nil, path, fmt.Errorf("web: save admin token: %w", err)
	}
	log.Info("generated an admin token (set admin.token or SYNDICATE_ADMIN_TOKEN to choose one)", slog.String("file", path))
	return []string{token}, path, nil
}

// SplitTokens splits a comma-separated token list, dropping blanks.
func SplitTokens(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
