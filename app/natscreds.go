package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/yongzhou-news/syndicate/internal/datadir"
)

// Files, in the data dir, that let local tools log in to the embedded NATS server. Both are
// readable by the service's user only: the password lets anyone publish forged events or delete
// the stream.
const (
	// NATSPasswordFile holds the generated password, kept across restarts.
	NATSPasswordFile = "nats-password"
	// NATSContextFile is a nats CLI context (ADR-21) with the server's URL, user and password,
	// rewritten on every start: `nats --context DATA_DIR/nats-context.json …`.
	NATSContextFile = "nats-context.json"
	// EmbeddedNATSUser is the embedded server's user when nats.user is not set.
	EmbeddedNATSUser = "syndicate"
)

// NATSContext is the part of a nats CLI context file Syndicate writes; the CLI and its
// natscontext package read these JSON keys.
type NATSContext struct {
	Description string `json:"description"`
	URL         string `json:"url"`
	User        string `json:"user"`
	Password    string `json:"password"`
}

// embeddedCredentials returns the user and password the embedded server requires: nats.user and
// nats.password when the password is configured, else the password saved in the data dir,
// generated on first start the way the admin token is.
func (a *App) embeddedCredentials() (user, password string, err error) {
	n := a.Config.NATS
	if n.Password != "" {
		user = n.User
		if user == "" {
			user = EmbeddedNATSUser
		}
		return user, n.Password, nil
	}
	if n.User != "" {
		return "", "", errors.New("app: nats.user is set without nats.password; set both, or neither to use a generated password")
	}
	password, path, created, err := datadir.Secret(a.Config.DataDir, NATSPasswordFile)
	if err != nil {
		return "", "", fmt.Errorf("app: the NATS password: %w", err)
	}
	if created {
		a.Log.Info("generated the embedded NATS server's password (set nats.password to choose one)", slog.String("file", path))
	}
	return EmbeddedNATSUser, password, nil
}

// writeNATSContext saves the nats CLI context for the embedded server listening on listen. It
// replaces the file whole, so a reader never sees half of it, and creates it private: an older
// file with a wider mode does not pass its mode on.
func (a *App) writeNATSContext(listen, user, password string) error {
	b, err := json.MarshalIndent(NATSContext{
		Description: "Syndicate's embedded NATS server (" + a.Config.DataDir + ")",
		URL:         "nats://" + listen,
		User:        user,
		Password:    password,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("app: encode the NATS context: %w", err)
	}
	f, err := os.CreateTemp(a.Config.DataDir, NATSContextFile+".*") // mode 0600
	if err != nil {
		return fmt.Errorf("app: write the NATS context: %w", err)
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("app: write the NATS context: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("app: write the NATS context: %w", err)
	}
	path := filepath.Join(a.Config.DataDir, NATSContextFile)
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("app: write the NATS context: %w", err)
	}
	a.Log.Info("the embedded NATS server requires a password; local tools log in with the nats CLI context",
		slog.String("context", path), slog.String("url", "nats://"+listen))
	return nil
}

// EmbeddedNATS reads the context the service wrote in dataDir for its embedded server: where it
// listens and how to log in.
func EmbeddedNATS(dataDir string) (NATSContext, error) {
	path := filepath.Join(dataDir, NATSContextFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return NATSContext{}, fmt.Errorf("app: the embedded NATS server's context: %w", err)
	}
	var c NATSContext
	if err := json.Unmarshal(b, &c); err != nil {
		return NATSContext{}, fmt.Errorf("app: the embedded NATS server's context %s: %w", path, err)
	}
	if c.URL == "" {
		return NATSContext{}, fmt.Errorf("app: the embedded NATS server's context %s has no url", path)
	}
	return c, nil
}
