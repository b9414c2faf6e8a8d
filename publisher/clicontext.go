package publisher

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/yongzhou-news/syndicate/internal/datadir"
)

// Files, in the data dir, that let local tools log in to the embedded server. Both are readable by
// the service's user only: the password lets anyone publish forged events or delete the stream.
const (
	// PasswordFile holds the generated password, kept across restarts.
	PasswordFile = "nats-password"
	// ContextFile is a nats CLI context (ADR-21) with the server's URL, user and password,
	// rewritten on every start: `nats --context DATA_DIR/nats-context.json …`.
	ContextFile = "nats-context.json"
	// EmbeddedUser is the embedded server's user when none is configured.
	EmbeddedUser = "syndicate"
)

// CLIContext is the part of a nats CLI context file Syndicate writes; the CLI and its
// natscontext package read these JSON keys.
type CLIContext struct {
	Description string `json:"description"`
	URL         string `json:"url"`
	User        string `json:"user"`
	Password    string `json:"password"`
}

// EmbeddedCredentials returns the user and password the embedded server requires: the configured
// user and password when the password is set (EmbeddedUser when the user is not), else the
// password saved in dataDir, generated on first start the way the admin token is.
func EmbeddedCredentials(dataDir, user, password string, log *slog.Logger) (string, string, error) {
	if password != "" {
		if user == "" {
			user = EmbeddedUser
		}
		return user, password, nil
	}
	if user != "" {
		return "", "", errors.New("publisher: nats.user is set without nats.password; set both, or neither to use a generated password")
	}
	password, path, created, err := datadir.Secret(dataDir, PasswordFile)
	if err != nil {
		return "", "", fmt.Errorf("publisher: the NATS password: %w", err)
	}
	if created {
		log.Info("generated the embedded NATS server's password (set nats.password to choose one)", slog.String("file", path))
	}
	return EmbeddedUser, password, nil
}

// WriteCLIContext saves in dataDir the nats CLI context for the embedded server listening on
// listen. It replaces the file whole, so a reader never sees half of it, and creates it private:
// an older file with a wider mode does not pass its mode on.
func WriteCLIContext(dataDir, listen, user, password string, log *slog.Logger) error {
	b, err := json.MarshalIndent(CLIContext{
		Description: "Syndicate's embedded NATS server (" + dataDir + ")",
		URL:         "nats://" + listen,
		User:        user,
		Password:    password,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("publisher: encode the NATS context: %w", err)
	}
	f, err := os.CreateTemp(dataDir, ContextFile+".*") // mode 0600
	if err != nil {
		return fmt.Errorf("publisher: write the NATS context: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("publisher: write the NATS context: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("publisher: write the NATS context: %w", err)
	}
	path := filepath.Join(dataDir, ContextFile)
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("publisher: write the NATS context: %w", err)
	}
	log.Info("the embedded NATS server requires a password; local tools log in with the nats CLI context",
		slog.String("context", path), slog.String("url", "nats://"+listen))
	return nil
}

// ReadCLIContext reads the context the service wrote in dataDir for its embedded server: where it
// listens and how to log in.
func ReadCLIContext(dataDir string) (CLIContext, error) {
	path := filepath.Join(dataDir, ContextFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return CLIContext{}, fmt.Errorf("publisher: the embedded NATS server's context: %w", err)
	}
	var c CLIContext
	if err := json.Unmarshal(b, &c); err != nil {
		return CLIContext{}, fmt.Errorf("publisher: the embedded NATS server's context %s: %w", path, err)
	}
	if c.URL == "" {
		return CLIContext{}, fmt.Errorf("publisher: the embedded NATS server's context %s has no url", path)
	}
	return c, nil
}
