package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/yongzhou-news/syndicate/config"
)

// The README's configuration table is the operators' reference: every setting must be in it.
func TestREADMEDocumentsEveryKey(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for env, key := range config.EnvKeys() {
		last := key[strings.LastIndex(key, ".")+1:]
		if !strings.Contains(string(readme), env) || !strings.Contains(string(readme), last) {
			t.Errorf("README.md does not document %s (%s)", key, env)
		}
	}
}
