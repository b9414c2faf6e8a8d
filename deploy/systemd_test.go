package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	sdunit "github.com/coreos/go-systemd/v22/unit"
	"github.com/mattn/go-shellwords"
)

const unitFile = "systemd/syndicate.service"

// unit is a systemd unit file: section → key → values, in order (keys such as Environment= and
// SystemCallFilter= may repeat).
type unit map[string]map[string][]string

func (u unit) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseUnit reads a unit file with go-systemd's deserializer (systemd.syntax(7): sections,
// comments, continuations); systemd-analyze verify below then checks what systemd makes of it.
func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sections, err := sdunit.DeserializeSections(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	u := unit{}
	for _, s := range sections {
		if u[s.Section] == nil {
			u[s.Section] = map[string][]string{}
		}
		for _, e := range s.Entries {
			u[s.Section][e.Name] = append(u[s.Section][e.Name], e.Value)
		}
	}
	return u
}

// words splits a command line or an Environment= list as systemd does, honouring quotes.
func words(t *testing.T, what, s string) []string {
	t.Helper()
	w, err := shellwords.Parse(s)
	if err != nil {
		t.Fatalf("%s=%s: %v", what, s, err)
	}
	return w
}

func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, unitFile)
	for _, s := range []string{"Unit", "Service", "Install"} {
		if _, ok := u[s]; !ok {
			t.Errorf("%s: no [%s] section", unitFile, s)
		}
	}
	if user := u.get("Service", "User"); user == "" || user == "root" {
		t.Errorf("User=%q: want a dedicated user", user)
	}
	start := words(t, "ExecStart", u.get("Service", "ExecStart"))
	if len(start) == 0 || !filepath.IsAbs(start[0]) {
		t.Fatalf("ExecStart=%q: want an absolute path and arguments", u.get("Service", "ExecStart"))
	}
	if got := configFromArgs(t, start[1:]); got != configPath {
		t.Errorf("ExecStart reads %s, want %s (where README.md installs deploy/syndicate.yaml)", got, configPath)
	}
	if d := parseDuration(t, "TimeoutStopSec", u.get("Service", "TimeoutStopSec")); d <= shutdownTimeout {
		t.Errorf("TimeoutStopSec=%s must exceed the %s graceful shutdown", d, shutdownTimeout)
	}
	if s := u.get("Service", "KillSignal"); s != "SIGTERM" {
		t.Errorf("KillSignal=%s, want SIGTERM", s)
	}

	// The unit runs deploy/syndicate.yaml (installed at configPath) with its Environment=.
	var env []string
	for _, e := range u["Service"]["Environment"] {
		env = append(env, words(t, "Environment", e)...)
	}
	cfg := loadConfig(t, deployment{name: "systemd", file: "syndicate.yaml", env: env})
	checkSingleHost(t, "systemd", cfg)
	checkDemo(t, "systemd", cfg)
	if state := "/var/lib/" + u.get("Service", "StateDirectory"); cfg.DataDir != state {
		t.Errorf("data_dir %s is not the StateDirectory= %s", cfg.DataDir, state)
	}
	if u.get("Service", "ProtectSystem") == "strict" && !slices.Contains(u["Service"]["ReadWritePaths"], cfg.DataDir) &&
		u.get("Service", "StateDirectory") == "" {
		t.Errorf("ProtectSystem=strict leaves data_dir %s read-only", cfg.DataDir)
	}

	t.Run("systemd-analyze verify", func(t *testing.T) {
		analyze, err := exec.LookPath("systemd-analyze")
		if err != nil {
			t.Skip("systemd-analyze is not installed: the unit was only parsed")
		}
		// verify insists that ExecStart's binary exists: point a copy of the unit at a stub.
		dir := t.TempDir()
		stub := filepath.Join(dir, "syndicate")
		if err := os.WriteFile(stub, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(unitFile)
		if err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(dir, "syndicate.service")
		text := strings.Replace(string(b), "ExecStart="+start[0], "ExecStart="+stub, 1)
		if err := os.WriteFile(copied, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(analyze, "verify", "--man=no", copied)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		// verify exits 0 on unknown keys and bad values ("…, ignoring"): any line about our unit counts.
		var problems []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, copied) || strings.Contains(l, "syndicate.service") {
				problems = append(problems, strings.ReplaceAll(l, copied, unitFile))
			}
		}
		switch {
		case len(problems) > 0:
			t.Errorf("systemd-analyze verify %s:\n%s", unitFile, strings.Join(problems, "\n"))
		case err != nil:
			t.Skipf("systemd-analyze verify failed for reasons outside the unit (%v):\n%s", err, out)
		}
	})
}
