package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Start-up failures print a message that names the problem and exit non-zero; a start-up
// problem that is not fatal (demo data for a channel tree without 零陵) is a warning. None of
// them may surface as a Go panic: a stack trace tells an operator nothing about what to fix.
func TestServeStartupProblems(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "syndicate")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	noLingling := filepath.Join(dir, "no-lingling.yaml")
	if err := os.WriteFile(noLingling, []byte(`demo: true
site: {title: Test, timezone: Asia/Shanghai}
channels:
  - {slug: news, title: News, schedule: "*/5 * * * *"}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     []string
		exits   bool   // fails start-up; otherwise it starts, and is stopped with SIGTERM
		message string // stderr must contain it
	}{
		{name: "unreachable NATS", env: []string{"SYNDICATE_NATS_URL=nats://127.0.0.1:1", "SYNDICATE_NATS_STARTUP_TIMEOUT=1s"}, exits: true,
			message: "cannot connect to NATS at nats://127.0.0.1:1: "},
		{name: "unreachable NATS with password", env: []string{"SYNDICATE_NATS_URL=nats://op:s3cret@127.0.0.1:1", "SYNDICATE_NATS_STARTUP_TIMEOUT=1s"}, exits: true,
			message: "cannot connect to NATS at nats://redacted@127.0.0.1:1: "},
		{name: "demo without lingling", args: []string{"--config", noLingling}, exits: false,
			message: "demo data skipped: the channel tree has no channel lingling, zhongyao-xinwen"},
		{name: "store path is a file", env: []string{"SYNDICATE_STORE_DSN=sqlite:" + noLingling + "/x.db"}, exits: true,
			message: "no-lingling.yaml/x.db"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, append([]string{"serve", "--log-format", "text"}, tc.args...)...)
			cmd.Env = append(os.Environ(), append([]string{
				"SYNDICATE_DATA_DIR=" + data,
				"SYNDICATE_HTTP_ADDR=" + freeAddr(t),
				"SYNDICATE_NATS_LISTEN=" + freeAddr(t),
			}, tc.env...)...)
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				out.WriteString(sc.Text() + "\n")
				if !tc.exits && strings.Contains(sc.Text(), "syndicate started") {
					if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
						t.Fatal(err)
					}
				}
			}
			err = cmd.Wait()
			text := out.String()
			if tc.exits && err == nil {
				t.Errorf("exit status 0, want a failure; stderr:\n%s", text)
			}
			if !tc.exits && err != nil {
				t.Errorf("exit: %v, want a clean start and stop; stderr:\n%s", err, text)
			}
			if !strings.Contains(text, tc.message) {
				t.Errorf("stderr does not say %q:\n%s", tc.message, text)
			}
			for _, bad := range []string{"panic:", "goroutine ", "s3cret"} {
				if strings.Contains(text, bad) {
					t.Errorf("stderr contains %q:\n%s", bad, text)
				}
			}
		})
	}
}
