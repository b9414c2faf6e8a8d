package config_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/config"
)

// configTable reads the README's configuration reference: the table rows of its Configuration
// section, as key → environment variable. A row may document several keys (`a`, `b` | `A`, `B`);
// they pair up in order.
func configTable(t *testing.T) map[string]string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no ## Configuration section")
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	code := regexp.MustCompile("`([^`]+)`")
	cells := func(cell string) []string {
		var out []string
		for _, m := range code.FindAllStringSubmatch(cell, -1) {
			out = append(out, m[1])
		}
		return out
	}
	table := map[string]string{}
	for line := range strings.SplitSeq(section, "\n") {
		row := strings.Split(line, "|")
		if len(row) < 4 || !strings.HasPrefix(line, "|") {
			continue
		}
		keys, envs := cells(row[1]), cells(row[2])
		if len(envs) == 0 { // the header, its rule, and the file-only settings
			continue
		}
		if len(keys) != len(envs) {
			t.Errorf("README row %q: %d keys for %d environment variables", line, len(keys), len(envs))
			continue
		}
		for i, k := range keys {
			table[k] = envs[i]
		}
	}
	return table
}

// The README's configuration table is the operators' reference: every setting is in it, under its
// whole dotted key and beside its own environment variable, and it documents no setting that does
// not exist.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	table := configTable(t)
	keys := config.EnvKeys()
	for env, key := range keys {
		switch documented, ok := table[key]; {
		case !ok:
			t.Errorf("README.md's configuration table has no row for %s (%s)", key, env)
		case documented != env:
			t.Errorf("README.md documents %s as %s, want %s", key, documented, env)
		}
	}
	known := map[string]bool{}
	for _, key := range keys {
		known[key] = true
	}
	for key, env := range table {
		if !known[key] {
			t.Errorf("README.md documents %s (%s), which is no setting", key, env)
		}
	}
}
