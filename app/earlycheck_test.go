package app_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
)

// A NATS option that start-up would refuse is refused before anything is created: no store
// file, no admin token, no embedded server's password in the data dir.
func TestBadNATSOptionTouchesNothing(t *testing.T) {
	for _, env := range []string{"SYNDICATE_NATS_LISTEN=0.0.0.0:0", "SYNDICATE_NATS_MAX_BYTES=-5"} {
		dir := filepath.Join(t.TempDir(), "data")
		cfg, err := config.Load("", []string{"SYNDICATE_DATA_DIR=" + dir, env})
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil {
			a.Close(context.Background())
			t.Fatalf("%s: start-up went ahead", env)
		}
		if !strings.Contains(err.Error(), "publisher:") {
			t.Errorf("%s: error %q does not say what is wrong with the NATS options", env, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("%s: the data dir holds %d entries after the refusal, want none", env, len(entries))
		}
	}
}

// A SQLite path outside the data dir whose directory does not exist is a mistake to report, not
// a new empty database to create; the data dir's own directory is created.
func TestSQLiteDirectoryOutsideDataDirMustExist(t *testing.T) {
	root := t.TempDir()
	missing := filepath.Join(root, "typo", "syndicate.db")
	if _, err := app.OpenStore(context.Background(), "sqlite:"+missing, filepath.Join(root, "data")); err == nil || !strings.Contains(err.Error(), "outside data_dir") {
		t.Errorf("a store in a missing directory outside data_dir: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "typo")); !os.IsNotExist(err) {
		t.Errorf("the missing directory was created: %v", err)
	}
	st, err := app.OpenStore(context.Background(), "sqlite:"+filepath.Join(root, "data", "syndicate.db"), filepath.Join(root, "data"))
	if err != nil {
		t.Fatalf("a store in the data dir, not yet created: %v", err)
	}
	st.Close()
}
