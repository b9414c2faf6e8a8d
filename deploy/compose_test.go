package deploy_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

const composeFile = "docker-compose.yml"

// composeProject is the part of the Compose file the tests read.
type composeProject struct {
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command         []string          `yaml:"command"`
	Environment     map[string]string `yaml:"environment"`
	Volumes         []string          `yaml:"volumes"`
	Tmpfs           []string          `yaml:"tmpfs"`
	Ports           []string          `yaml:"ports"`
	ReadOnly        bool              `yaml:"read_only"`
	StopGracePeriod string            `yaml:"stop_grace_period"`
	Healthcheck     *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// composeVars is the environment the Compose file is interpolated with in these tests: only
// the required variable, so every other ${VAR:-default} takes its default.
var composeVars = map[string]string{"SYNDICATE_ADMIN_TOKEN": "compose-test-token"}

// servicesOf returns the sorted names of the services for which is returns true.
func servicesOf(p composeProject, is func(name string, s composeService) bool) []string {
	var names []string
	for name, s := range p.Services {
		if is(name, s) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

func isNATS(_ string, s composeService) bool {
	return strings.HasPrefix(s.Image, "nats:") || s.Image == "nats"
}

func isSyndicate(_ string, s composeService) bool {
	return s.Build != nil && s.Build.Dockerfile == "deploy/Dockerfile"
}

func TestCompose(t *testing.T) {
	p := decodeOne[composeProject](t, composeFile)
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
			if s.Healthcheck == nil {
				t.Errorf("%s: no healthcheck; the replicas wait for service_healthy", name)
			}
		}
	})

	t.Run("replicas", func(t *testing.T) {
		cmd := imageCmd(t)
		demos := 0
		for _, name := range replicas {
			s := p.Services[name]
			env := interpolatedEnv(t, name, s, composeVars)
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
				if host := urlHost(u); !slices.Contains(nats, host) {
					t.Errorf("%s: nats.url names %q, which is not a NATS service of %s", name, host, composeFile)
				}
			}
			if host := urlHost(cfg.Store.DSN); p.Services[host].Healthcheck == nil {
				t.Errorf("%s: store.dsn names %q, which is not a service with a healthcheck", name, host)
			}
			if cfg.Site.BaseURL != "http://localhost:8080" {
				t.Errorf("%s: site.base_url %q, want the proxy's http://localhost:8080", name, cfg.Site.BaseURL)
			}
			if s.StopGracePeriod == "" || parseDuration(t, name+" stop_grace_period", s.StopGracePeriod) <= shutdownTimeout {
				t.Errorf("%s: stop_grace_period %q must exceed the %s graceful shutdown", name, s.StopGracePeriod, shutdownTimeout)
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
		s := p.Services[replicas[0]]
		if _, err := interpolate(s.Environment["SYNDICATE_ADMIN_TOKEN"], nil); err == nil {
			t.Errorf("SYNDICATE_ADMIN_TOKEN should be required (${SYNDICATE_ADMIN_TOKEN:?…}): replicas must share one token")
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
		if !slices.Contains(proxy.Ports, "8080:8080") {
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

	t.Run("docker compose config", func(t *testing.T) {
		if _, err := exec.LookPath("docker"); err != nil {
			t.Skip("docker is not installed: `docker compose config` not run")
		}
		if out, err := exec.Command("docker", "compose", "version").CombinedOutput(); err != nil {
			t.Skipf("the docker compose plugin is not installed (%v: %s): `docker compose config` not run", err, strings.TrimSpace(string(out)))
		}
		cmd := exec.Command("docker", "compose", "-f", composeFile, "config", "-q")
		cmd.Env = append(os.Environ(), "SYNDICATE_ADMIN_TOKEN=compose-test-token")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("docker compose -f deploy/%s config -q: %v\n%s", composeFile, err, out)
		}
	})
}

// interpolatedEnv returns a service's environment after Compose variable substitution.
func interpolatedEnv(t *testing.T, service string, s composeService, vars map[string]string) []string {
	t.Helper()
	var env []string
	for k, v := range s.Environment {
		v, err := interpolate(v, vars)
		if err != nil {
			t.Fatalf("%s: environment %s: %v", service, k, err)
		}
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

var composeVar = regexp.MustCompile(`\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|[A-Za-z_][A-Za-z0-9_]*)`)

// interpolate applies Compose's substitution: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
// ${VAR:?error} and ${VAR?error} (with ':' an empty value counts as unset).
func interpolate(s string, vars map[string]string) (string, error) {
	var err error
	out := composeVar.ReplaceAllStringFunc(s, func(m string) string {
		sub := composeVar.FindStringSubmatch(m)
		switch {
		case sub[1] == "$":
			return "$"
		case sub[2] == "":
			return vars[strings.TrimPrefix(m, "$")]
		}
		name, op, arg := sub[2], sub[3], sub[4]
		v, set := vars[name]
		if strings.HasPrefix(op, ":") && v == "" {
			set = false
		}
		switch {
		case set:
			return v
		case strings.HasSuffix(op, "-"):
			return arg
		case strings.HasSuffix(op, "?"):
			err = fmt.Errorf("required variable %s is missing: %s", name, arg)
		}
		return ""
	})
	return out, err
}

// hasVolumeAt reports whether a service mounts a volume or bind mount at target.
func hasVolumeAt(s composeService, target string) bool {
	for _, v := range s.Volumes {
		if parts := strings.Split(v, ":"); len(parts) >= 2 && parts[1] == target {
			return true
		}
	}
	return false
}

// hostPathMountedAt returns the file (relative to deploy/) bind-mounted at target.
func hostPathMountedAt(t *testing.T, s composeService, target string) string {
	t.Helper()
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && parts[1] == target && strings.HasPrefix(parts[0], ".") {
			if _, err := os.Stat(parts[0]); err != nil {
				t.Fatalf("bind mount %q: %v", v, err)
			}
			return parts[0]
		}
	}
	t.Fatalf("nothing is bind-mounted at %s (volumes %v)", target, s.Volumes)
	return ""
}

// urlHost returns the host name of scheme://[user[:password]@]host[:port][/…].
func urlHost(u string) string {
	_, rest, _ := strings.Cut(strings.TrimSpace(u), "://")
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	host, _, _ := strings.Cut(rest, "/")
	host, _, _ = strings.Cut(host, ":")
	return host
}
