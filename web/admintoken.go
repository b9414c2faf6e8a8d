package web

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/yongzhou-news/syndicate/internal/datadir"
)

// MinTokenBytes is the shortest configured admin token start-up does not warn about.
const MinTokenBytes = 16

// AdminTokenFile names the file, in the data dir, that keeps the generated admin token.
const AdminTokenFile = "admin-token"

// AdminTokens returns the configured tokens (a comma-separated list) or, when none is
// configured, the one saved in dataDir, generating it on first start so that the admin API is
// never open (a widened file is narrowed to its owner, package datadir). file is where the token is kept, "" when it was configured.
func AdminTokens(configured, dataDir string, log *slog.Logger) (tokens []string, file string, err error) {
	if t := SplitTokens(configured); len(t) > 0 {
		for i, tok := range t {
			if len(tok) < MinTokenBytes {
				// Refusing would stop a service whose clients already use the token; a warning at
				// every start gets it changed.
				log.Warn("an admin token is short enough to guess; use 16 bytes or more (e.g. openssl rand -hex 24)",
					slog.Int("token", i+1), slog.Int("bytes", len(tok)))
			}
		}
		return t, "", nil
	}
	secret, path, created, err := datadir.Secret(dataDir, AdminTokenFile)
	if err != nil {
		return nil, path, fmt.Errorf("web: admin token: %w", err)
	}
	if created {
		log.Info("generated an admin token (set admin.token or SYNDICATE_ADMIN_TOKEN to choose one)", slog.String("file", path))
	} else {
		log.Info("admin token read from file", slog.String("file", path))
	}
	return SplitTokens(secret), path, nil
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
