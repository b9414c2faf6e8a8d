// Package deploy_test checks the deployment files in this folder: every YAML file parses, every
// Syndicate configuration loads with the environment its deployment gives it, and the files
// agree with each other (config paths, ports, data dirs, service names). The checks per
// deployment live in compose_test.go, kubernetes_test.go, systemd_test.go and docker_test.go.
package deploy_test

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/demo"
)

// The paths every deployment agrees on: the image's CMD, the systemd unit and the Kubernetes
// Deployment all run `serve --config configPath` with data_dir at dataDir.
const (
	configPath = "/etc/syndicate/syndicate.yaml"
	dataDir    = "/var/lib/syndicate"
)

// shutdownTimeout is cmd/syndicate's graceful shutdown bound (unexported there). Every
// deployment must wait longer than this before it kills the process.
const shutdownTimeout = 30 * time.Second

// TestYAMLFilesParse decodes every document of every YAML file under deploy/. yaml.v3 also
// rejects duplicate keys, which most tools silently resolve to the last one.
func TestYAMLFilesParse(t *testing.T) {
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 7 {
		t.Fatalf("found only %d YAML files under deploy/: %v", len(files), files)
	}
	for _, path := range files {
		t.Run(path, func(t *testing.T) {
			docs := decodeAll[yaml.Node](t, path)
			if len(docs) == 0 {
				t.Fatalf("%s holds no YAML document", path)
			}
		})
	}
}

// decodeAll decodes every document of a (possibly multi-document) YAML file into a T.
func decodeAll[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var docs []T
	for i := 0; ; i++ {
		var doc T
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: document %d: %v", path, i+1, err)
		}
		docs = append(docs, doc)
	}
}

// deployment is what every deployment gives config.Load: a file and an environment.
type deployment struct {
	name string
	file string   // the configuration file, as it will be mounted at configPath
	env  []string // KEY=VALUE, as the process will see it
}

// loadConfig loads a deployment's configuration exactly as `syndicate serve --config` does.
func loadConfig(t *testing.T, d deployment) *config.Config {
	t.Helper()
	cfg, err := config.Load(d.file, d.env)
	if err != nil {
		t.Fatalf("%s: %s does not load with its environment %q: %v", d.name, d.file, d.env, err)
	}
	return cfg
}

// checkScaleOut checks a configuration meant for several replicas: shared PostgreSQL, an
// external NATS cluster with replicated streams, no embedded server, a fixed admin token (a
// generated one would differ per replica).
func checkScaleOut(t *testing.T, name string, cfg *config.Config, natsServers int) {
	t.Helper()
	if !strings.HasPrefix(cfg.Store.DSN, "postgres://") && !strings.HasPrefix(cfg.Store.DSN, "postgresql://") {
		scheme, _, _ := strings.Cut(cfg.Store.DSN, ":")
		t.Errorf("%s: store.dsn scheme %q, want postgres:// (replicas share one database)", name, scheme)
	}
	urls := strings.Split(cfg.NATS.URL, ",")
	if cfg.NATS.URL == "" || len(urls) != natsServers {
		t.Errorf("%s: nats.url %q, want %d servers", name, cfg.NATS.URL, natsServers)
	}
	for _, u := range urls {
		if !strings.HasPrefix(strings.TrimSpace(u), "nats://") && !strings.HasPrefix(strings.TrimSpace(u), "tls://") {
			t.Errorf("%s: nats.url entry %q is not a nats:// or tls:// URL", name, u)
		}
	}
	if cfg.NATS.Replicas != natsServers {
		t.Errorf("%s: nats.replicas %d, want %d (one copy per server)", name, cfg.NATS.Replicas, natsServers)
	}
	if cfg.NATS.Listen != "" {
		t.Errorf("%s: nats.listen %q, want empty: no embedded server next to an external cluster", name, cfg.NATS.Listen)
	}
	if cfg.Admin.Token == "" {
		t.Errorf("%s: admin.token is empty: each replica would generate its own token", name)
	}
	if cfg.DataDir != dataDir {
		t.Errorf("%s: data_dir %q, want %q", name, cfg.DataDir, dataDir)
	}
}

// checkSingleHost checks a configuration for one instance with SQLite and the embedded server.
func checkSingleHost(t *testing.T, name string, cfg *config.Config) {
	t.Helper()
	if cfg.DataDir != dataDir {
		t.Errorf("%s: data_dir %q, want %q", name, cfg.DataDir, dataDir)
	}
	if want := "sqlite:" + dataDir + "/"; !strings.HasPrefix(cfg.Store.DSN, want) {
		t.Errorf("%s: store.dsn %q, want a SQLite file in %s", name, cfg.Store.DSN, dataDir)
	}
	if cfg.NATS.URL != "" || cfg.NATS.Replicas != 1 {
		t.Errorf("%s: nats.url %q, replicas %d: want the embedded server (empty url, 1 replica)", name, cfg.NATS.URL, cfg.NATS.Replicas)
	}
	// publisher refuses any other listener at start-up: the embedded server has no TLS.
	if cfg.NATS.Listen != "" {
		host, _, err := net.SplitHostPort(cfg.NATS.Listen)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			t.Errorf("%s: nats.listen %q is not a loopback address", name, cfg.NATS.Listen)
		}
	}
}

// checkDemo checks that a configuration that loads the demo story has the channels it is filed
// in; otherwise start-up fails with "demo article rejected".
func checkDemo(t *testing.T, name string, cfg *config.Config) {
	t.Helper()
	if !cfg.Demo {
		return
	}
	tree, err := cfg.Tree()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	recs, err := demo.Articles()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		for _, ch := range r.Article.Channels {
			if !tree.Has(ch) {
				t.Errorf("%s: demo is on but the demo article's channel %q is not configured", name, ch)
			}
		}
	}
}

// httpPort returns the port of http.addr.
func httpPort(t *testing.T, cfg *config.Config) string {
	t.Helper()
	_, port, err := net.SplitHostPort(cfg.HTTP.Addr)
	if err != nil {
		t.Fatalf("http.addr %q: %v", cfg.HTTP.Addr, err)
	}
	return port
}

// writeTemp writes data to a file in a test temp dir and returns its path.
func writeTemp(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseDuration parses a systemd style duration ("45s", "1m30s", or plain seconds).
func parseDuration(t *testing.T, what, s string) time.Duration {
	t.Helper()
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		return d
	}
	if d, err := time.ParseDuration(s + "s"); err == nil {
		return d
	}
	t.Fatalf("%s: %q is not a duration", what, s)
	return 0
}
