package deploy_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

const composeFile = "docker-compose.yml"

// composeVars is the environment the Compose file is interpolated with in these tests: only
// the required variable, so every other ${VAR:-default} takes its default.
var composeVars = map[string]string{"SYNDICATE_ADMIN_TOKEN": "compose-test-token"}

// loadCompose loads the Compose file as `docker compose` does, with compose-go (the Compose
// specification's reference library): YAML anchors and merge keys, interpolation from env only
// (no .env, no process environment), validation against the specification's JSON schema, and
// bind-mount paths resolved against deploy/.
func loadCompose(env map[string]string) (*types.Project, error) {
	dir, err := filepath.Abs(".")
	if err != nil {
		return nil, err
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, composeFile)}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SetProjectName("syndicate", true)
		o.ResolvePaths = true
	})
}

// servicesOf returns the sorted names of the services for which is returns true.
func servicesOf(p *types.Project, is func(s types.ServiceConfig) bool) []string {
	var names []string
	for name, s := range p.Services {
		if is(s) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func isNATS(s types.ServiceConfig) bool {
	return strings.HasPrefix(s.Image, "nats:") || s.Image == "nats"
}

func isSyndicate(s types.ServiceConfig) bool {
	return s.Build != nil && s.Build.Dockerfile == "deploy/Dockerfile"
}

func TestCompose(t *testing.T) {
	p, err := loadCompose(composeVars)
	if err != nil {
		t.Fatalf("compose-go: %s: %v", composeFile, err)
	}
	nats := servicesOf(p, isNATS)
	replicas := servicesOf(p, isSyndicate)
	if len(nats) != 3 {
		t.Errorf("NATS services %v, want 3 (a JetStream cluster of three)", nats)
	}
	if len(replicas) != 2 {
		t.Fatalf("Syndicate services (built from deploy/Dockerfile) %v, want 2", replicas)
	}

	t.Run("nats cluster", func(t *testing.T) {
		for _, name := range nats {
			s := p.Services[name]
			args := strings.Join(s.Command, " ")
			for _, want := range []string{"-js", "--name " + name, "--cluster_name ", "--cluster ", "--routes "} {
				if !strings.Contains(args, want) {
					t.Errorf("%s: command %q lacks %q", name, args, want)
				}
			}
			// Every other node must be a route, or the cluster may split.
			for _, other := range nats {
				if other != name && !strings.Contains(args, "nats://"+other+":6222") {
					t.Errorf("%s: no route to %s", name, other)
				}
			}
			if !hasVolumeAt(s, "/data") || !strings.Contains(args, "--store_dir /data") {
				t.Errorf("%s: JetStream storage (--store_dir /data) must be on a volume", name)
			}
			if s.HealthCheck == nil || s.HealthCheck.Disable {
				t.Errorf("%s: no healthcheck; the replicas wait for service_healthy", name)
			}
		}
	})

	t.Run("replicas", func(t *testing.T) {
		cmd := imageCmd(t)
		demos := 0
		for _, name := range replicas {
			s := p.Services[name]
			var env []string
			for k, v := range s.Environment {
				if v == nil {
					t.Errorf("%s: environment %s has no value", name, k)
					continue
				}
				env = append(env, k+"="+*v)
			}
			sort.Strings(env)
			args := cmd
			if len(s.Command) > 0 {
				args = s.Command
			}
			file := hostPathMountedAt(t, s, configFromArgs(t, args))
			cfg := loadConfig(t, deployment{name: name, file: file, env: env})
			checkScaleOut(t, name, cfg, len(nats))
			checkDemo(t, name, cfg)
			if cfg.Demo {
				demos++
			}
			for _, u := range strings.Split(cfg.NATS.URL, ",") {
				if host := urlHost(t, u); !slices.Contains(nats, host) {
					t.Errorf("%s: nats.url names %q, which is not a NATS service of %s", name, host, composeFile)
				}
			}
			if host := urlHost(t, cfg.Store.DSN); p.Services[host].HealthCheck == nil {
				t.Errorf("%s: store.dsn names %q, which is not a service with a healthcheck", name, host)
			}
			if cfg.Site.BaseURL != "http://localhost:8080" {
				t.Errorf("%s: site.base_url %q, want the proxy's http://localhost:8080", name, cfg.Site.BaseURL)
			}
			if g := s.StopGracePeriod; g == nil || time.Duration(*g) <= shutdownTimeout {
				t.Errorf("%s: stop_grace_period %v must exceed the %s graceful shutdown", name, g, shutdownTimeout)
			}
			if s.ReadOnly && !slices.Contains(s.Tmpfs, cfg.DataDir) && !hasVolumeAt(s, cfg.DataDir) {
				t.Errorf("%s: read-only root file system but data_dir %s is neither a tmpfs nor a volume", name, cfg.DataDir)
			}
			if len(s.Ports) > 0 {
				t.Errorf("%s publishes %v: only the proxy should", name, s.Ports)
			}
		}
		if demos > 1 {
			t.Errorf("%d replicas load the demo story; one is enough", demos)
		}
	})

	t.Run("admin token required", func(t *testing.T) {
		// Replicas must share one token: without it the file does not load at all.
		_, err := loadCompose(nil)
		if err == nil || !strings.Contains(err.Error(), "SYNDICATE_ADMIN_TOKEN") {
			t.Errorf("loaded without SYNDICATE_ADMIN_TOKEN (err %v); it should be required (${SYNDICATE_ADMIN_TOKEN:?…})", err)
		}
	})

	t.Run("proxy", func(t *testing.T) {
		var published []string
		for name, s := range p.Services {
			if len(s.Ports) > 0 {
				published = append(published, name)
			}
		}
		if len(published) != 1 {
			t.Fatalf("services publishing ports: %v, want exactly the proxy", published)
		}
		proxy := p.Services[published[0]]
		if !slices.ContainsFunc(proxy.Ports, func(p types.ServicePortConfig) bool { return p.Published == "8080" && p.Target == 8080 }) {
			t.Errorf("proxy publishes %v, want 8080:8080 (site.base_url is http://localhost:8080)", proxy.Ports)
		}
		caddyfile := hostPathMountedAt(t, proxy, "/etc/caddy/Caddyfile")
		b, err := os.ReadFile(caddyfile)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range replicas {
			if !strings.Contains(string(b), name+":8080") {
				t.Errorf("%s does not proxy to %s:8080", caddyfile, name)
			}
		}
	})
}

// hasVolumeAt reports whether a service mounts a volume or bind mount at target.
func hasVolumeAt(s types.ServiceConfig, target string) bool {
	return slices.ContainsFunc(s.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Target == target && (v.Type == types.VolumeTypeVolume || v.Type == types.VolumeTypeBind)
	})
}

// hostPathMountedAt returns the file bind-mounted at target.
func hostPathMountedAt(t *testing.T, s types.ServiceConfig, target string) string {
	t.Helper()
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind && v.Target == target {
			if _, err := os.Stat(v.Source); err != nil {
				t.Fatalf("bind mount %s:%s: %v", v.Source, v.Target, err)
			}
			return v.Source
		}
	}
	t.Fatalf("nothing is bind-mounted at %s (volumes %v)", target, s.Volumes)
	return ""
}

// urlHost returns the host name of a URL, failing the test when it does not parse.
func urlHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	return u.Hostname()
}
