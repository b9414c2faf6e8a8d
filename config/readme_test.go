package config_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/yongzhou-news/syndicate/config"
)

// readmeConfigRow is one row of the README's configuration table.
type readmeConfigRow struct {
	keys, envs []string // the backticked names of the first two cells
	def        string   // the default cell as written
}

var backticked = regexp.MustCompile("`([^`]*)`")

// readmeConfigTable reads the table under "## Configuration": the rows whose first cell is a key.
func readmeConfigTable(t *testing.T) []readmeConfigRow {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Configuration\n")
	if !ok {
		t.Fatal(`README.md has no "## Configuration" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var rows []readmeConfigRow
	for line := range strings.SplitSeq(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		var row readmeConfigRow
		for _, m := range backticked.FindAllStringSubmatch(cells[1], -1) {
			row.keys = append(row.keys, m[1])
		}
		for _, m := range backticked.FindAllStringSubmatch(cells[2], -1) {
			row.envs = append(row.envs, m[1])
		}
		row.def = strings.TrimSpace(cells[3])
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		t.Fatal("README.md's configuration table has no rows")
	}
	return rows
}

// The README's configuration table is the operators' reference: every setting is in it under its
// whole dotted key, on the row naming its environment variable, and the table names no key the
// configuration does not have (a renamed key left behind in the README would mislead).
func TestREADMEDocumentsEveryKey(t *testing.T) {
	rows := readmeConfigTable(t)
	envOf := map[string]string{} // key → the environment variable on its README row
	fileOnly := map[string]bool{}
	for _, row := range rows {
		if len(row.envs) == 0 {
			for _, k := range row.keys {
				fileOnly[k] = true
			}
			continue
		}
		if len(row.envs) != len(row.keys) {
			t.Errorf("README row %v names %d environment variables for %d keys", row.keys, len(row.envs), len(row.keys))
			continue
		}
		for i, k := range row.keys {
			envOf[k] = row.envs[i]
		}
	}
	keys := config.EnvKeys()
	for env, key := range keys {
		switch got, ok := envOf[key]; {
		case !ok:
			t.Errorf("README.md's configuration table has no row for %s (%s)", key, env)
		case got != env:
			t.Errorf("README.md gives %s the environment variable %s, want %s", key, got, env)
		}
	}
	known := map[string]bool{}
	for _, key := range keys {
		known[key] = true
	}
	for key := range envOf {
		if !known[key] {
			t.Errorf("README.md documents %s, which is no configuration key", key)
		}
	}
	for key := range fileOnly {
		if key != "channels" && key != "sources" {
			t.Errorf("README.md documents %s as file-only; only channels and sources are", key)
		}
	}
}

// The table's defaults are config/default.yaml's: where a row states a value (the first
// backticked word, or the plain text), it is the built-in one. Settings whose default is empty
// (or left out of default.yaml) say "empty", or what start-up derives (store.dsn, nats.store_dir,
// admin.token).
func TestREADMEDefaultsMatchDefaultYAML(t *testing.T) {
	raw, err := os.ReadFile("default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	defaults := map[string]string{}
	var flatten func(prefix string, v any)
	flatten = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok {
			for k, sub := range m {
				flatten(strings.TrimPrefix(prefix+"."+k, "."), sub)
			}
			return
		}
		defaults[prefix] = fmt.Sprint(v)
	}
	flatten("", tree)

	checked := 0
	for _, row := range readmeConfigTable(t) {
		if len(row.keys) != 1 || len(row.envs) != 1 {
			continue // file-only lists and rows of several keys (all empty by default)
		}
		key := row.keys[0]
		want := defaults[key] // a key default.yaml leaves out is empty
		got := row.def
		if m := backticked.FindStringSubmatch(got); m != nil {
			got = m[1]
		}
		if want == "" {
			if !slices.Contains([]string{"empty", "generated"}, got) && !strings.Contains(got, "DATA_DIR") {
				t.Errorf("README.md gives %s the default %q; default.yaml leaves it empty", key, row.def)
			}
			continue
		}
		if got != want {
			t.Errorf("README.md gives %s the default %q; default.yaml has %q", key, row.def, want)
		}
		checked++
	}
	if checked < 50 {
		t.Errorf("checked only %d defaults; is the table still parsed?", checked)
	}
}
