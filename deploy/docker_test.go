package deploy_test

import (
	"bytes"
	"go/version"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

const dockerfile = "Dockerfile"

// dockerStages parses the Dockerfile with BuildKit's own frontend (the parser and instruction
// decoder `docker build` runs), failing on a syntax error or any of BuildKit's build checks, and
// returns the ARGs before the first FROM and the stages.
func dockerStages(t *testing.T) ([]instructions.ArgCommand, []instructions.Stage) {
	t.Helper()
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	ast, err := parser.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", dockerfile, err)
	}
	for _, w := range ast.Warnings {
		t.Errorf("%s: %s", dockerfile, w.Short)
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		t.Errorf("%s:%d: build check %s: %s", dockerfile, line, rule, msg)
	}})
	stages, metaArgs, err := instructions.Parse(ast.AST, lint)
	if err != nil {
		t.Fatalf("%s: %v", dockerfile, err)
	}
	if len(stages) < 2 {
		t.Fatalf("%s: %d stages, want a builder and a final stage", dockerfile, len(stages))
	}
	return metaArgs, stages
}

// commands returns the instructions of type T in a stage.
func commands[T instructions.Command](stage instructions.Stage) []T {
	var out []T
	for _, c := range stage.Commands {
		if c, ok := c.(T); ok {
			out = append(out, c)
		}
	}
	return out
}

// execForm returns the arguments of an exec-form (JSON array) ENTRYPOINT or CMD.
func execForm(t *testing.T, what string, c instructions.ShellDependantCmdLine) []string {
	t.Helper()
	if c.PrependShell {
		t.Fatalf("%s %q: want the exec (JSON array) form, not the shell form", what, c.CmdLine)
	}
	return c.CmdLine
}

// imageCmd returns the final stage's CMD: the arguments of /syndicate when nothing overrides them.
func imageCmd(t *testing.T) []string {
	t.Helper()
	_, stages := dockerStages(t)
	cmds := commands[*instructions.CmdCommand](stages[len(stages)-1])
	if len(cmds) != 1 {
		t.Fatalf("%s: final stage has %d CMD instructions, want 1", dockerfile, len(cmds))
	}
	return execForm(t, "CMD", cmds[0].ShellDependantCmdLine)
}

// configFromArgs returns the file `serve --config FILE` reads.
func configFromArgs(t *testing.T, args []string) string {
	t.Helper()
	i := slices.Index(args, "--config")
	if len(args) == 0 || args[0] != "serve" || i < 0 || i+1 >= len(args) {
		t.Fatalf("arguments %q: want serve --config FILE", args)
	}
	return args[i+1]
}

func TestDockerfile(t *testing.T) {
	metaArgs, stages := dockerStages(t)
	builder, final := stages[0], stages[len(stages)-1]

	t.Run("builder", func(t *testing.T) {
		if !strings.HasPrefix(builder.BaseName, "golang:") {
			t.Errorf("builder FROM %s, want golang:…", builder.BaseName)
		}
		// The builder's Go must be at least go.mod's: keep ARG GO_VERSION in step with it.
		want := goModVersion(t)
		found := false
		for _, a := range metaArgs {
			for _, kv := range a.Args {
				if kv.Key == "GO_VERSION" && kv.Value != nil {
					found = true
					if !imageGoCovers(*kv.Value, want) {
						t.Errorf("ARG GO_VERSION=%s, but go.mod says go %s", *kv.Value, want)
					}
				}
			}
		}
		if !found {
			t.Errorf("no ARG GO_VERSION=… default for the golang image")
		}
		build := buildCommand(t, builder, nil)
		for _, want := range []string{"-trimpath", "./cmd/syndicate"} {
			if !slices.Contains(build, want) {
				t.Errorf("go build %q lacks %s", build, want)
			}
		}
	})

	t.Run("final", func(t *testing.T) {
		users := commands[*instructions.UserCommand](final)
		if len(users) == 0 {
			t.Fatalf("final stage sets no USER: it would run as root")
		}
		last := users[len(users)-1].User
		user, _, _ := strings.Cut(last, ":")
		if user == "root" || user == "0" || !regexp.MustCompile(`^[0-9]+$`).MatchString(user) {
			t.Errorf("USER %s: want a numeric non-root user (Kubernetes' runAsNonRoot checks the number)", last)
		}
		if ep := commands[*instructions.EntrypointCommand](final); len(ep) != 1 || !slices.Equal(execForm(t, "ENTRYPOINT", ep[0].ShellDependantCmdLine), []string{"/syndicate"}) {
			t.Errorf("want one ENTRYPOINT [\"/syndicate\"]")
		}
		if got := configFromArgs(t, imageCmd(t)); got != configPath {
			t.Errorf("CMD reads %s, want %s", got, configPath)
		}
		var volumes, exposed []string
		for _, v := range commands[*instructions.VolumeCommand](final) {
			volumes = append(volumes, v.Volumes...)
		}
		for _, e := range commands[*instructions.ExposeCommand](final) {
			exposed = append(exposed, e.Ports...)
		}
		if !slices.Contains(volumes, dataDir) {
			t.Errorf("VOLUME %v, want %s", volumes, dataDir)
		}
		// The image's own configuration is deploy/syndicate.yaml: its port is the one exposed.
		cfg := loadConfig(t, deployment{name: "image default", file: "syndicate.yaml"})
		if !slices.Contains(exposed, httpPort(t, cfg)) {
			t.Errorf("EXPOSE %v, want the HTTP port %s", exposed, httpPort(t, cfg))
		}
		if !slices.ContainsFunc(commands[*instructions.CopyCommand](final), func(c *instructions.CopyCommand) bool {
			return c.From == "" && slices.Equal(c.SourcePaths, []string{"deploy/syndicate.yaml"}) && c.DestPath == configPath
		}) {
			t.Errorf("the final stage does not COPY deploy/syndicate.yaml to %s", configPath)
		}
	})

	t.Run("dockerignore keeps what the build needs", func(t *testing.T) {
		ignored := readDockerignore(t, dockerfile+".dockerignore")
		need := []string{"go.mod", "go.sum"}
		for _, stage := range stages {
			for _, c := range commands[*instructions.CopyCommand](stage) {
				if c.From != "" {
					continue
				}
				for _, src := range c.SourcePaths {
					if src != "." {
						need = append(need, src)
					}
				}
			}
		}
		need = append(need, moduleSources(t)...)
		for _, path := range need {
			if ignored(path) {
				t.Errorf("%s.dockerignore excludes %s, which the image build needs", dockerfile, path)
			}
		}
		for _, path := range []string{".git", "bin/syndicate", "data/syndicate.db"} {
			if !ignored(path) {
				t.Errorf("%s.dockerignore does not exclude %s", dockerfile, path)
			}
		}
	})

	// The image's build command, run here: it must still build without cgo (the final image has
	// no C library), and -X main.Version must still name a variable (the linker ignores a typo).
	t.Run("go build as in the image", func(t *testing.T) {
		if testing.Short() {
			t.Skip("builds the binary")
		}
		args := buildCommand(t, builder, []string{"VERSION=deploy-test"})
		bin := filepath.Join(t.TempDir(), "syndicate")
		for i := range args {
			if i > 0 && args[i-1] == "-o" {
				args[i] = bin
			}
		}
		cmd := exec.Command("go", args[1:]...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("CGO_ENABLED=0 go %s: %v\n%s", strings.Join(args[1:], " "), err, out)
		}
		out, err := exec.Command(bin, "version").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "syndicate deploy-test" {
			t.Errorf("syndicate version: %q, %v; want \"syndicate deploy-test\" (is main.Version still the variable?)", out, err)
		}
	})
}

// buildCommand returns the builder's `go build …` words, split and expanded (with env) by
// BuildKit's shell lexer, after checking it runs with CGO_ENABLED=0.
func buildCommand(t *testing.T, builder instructions.Stage, env []string) []string {
	t.Helper()
	lex := shell.NewLex(parser.DefaultEscapeToken)
	for _, run := range commands[*instructions.RunCommand](builder) {
		words, err := lex.ProcessWords(strings.Join(run.CmdLine, " "), shell.EnvsFromSlice(env))
		if err != nil {
			t.Fatalf("RUN %q: %v", run.CmdLine, err)
		}
		for i := range words {
			if words[i] == "go" && i+1 < len(words) && words[i+1] == "build" {
				if i == 0 || words[i-1] != "CGO_ENABLED=0" {
					t.Errorf("RUN %q: go build must run with CGO_ENABLED=0", run.CmdLine)
				}
				return slices.Clone(words[i:])
			}
		}
	}
	t.Fatalf("%s: no RUN … go build in the builder stage", dockerfile)
	return nil
}

// goModVersion returns the go directive of the module's go.mod, as the go command reads it.
func goModVersion(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.GoVersion}}")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	v := strings.TrimSpace(string(out))
	if !version.IsValid("go" + v) {
		t.Fatalf("go.mod's go directive %q is no Go version", v)
	}
	return v
}

// imageGoCovers reports whether the golang image tagged tag has at least Go want: a tag naming
// only a language version (1.26) is that line's newest release.
func imageGoCovers(tag, want string) bool {
	tag, want = "go"+tag, "go"+want
	if !version.IsValid(tag) {
		return false
	}
	if version.Lang(tag) == tag {
		want = version.Lang(want)
	}
	return version.Compare(tag, want) >= 0
}

// moduleSources lists, relative to the repository root, every Go and embedded file of the
// module's packages that cmd/syndicate is built from.
func moduleSources(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if and .Module .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}{{"\n"}}{{end}}{{end}}`,
		"./cmd/syndicate")
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range strings.Fields(string(out)) {
		rel, err := filepath.Rel(root, f)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, filepath.ToSlash(rel))
	}
	if len(files) < 10 {
		t.Fatalf("go list found only %d source files: %v", len(files), files)
	}
	return files
}

// readDockerignore returns whether a .dockerignore file excludes a path (relative to the build
// context), read and matched with the packages Docker and BuildKit use (moby/patternmatcher).
func readDockerignore(t *testing.T, path string) func(string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return func(p string) bool {
		excluded, err := pm.MatchesOrParentMatches(p)
		if err != nil {
			t.Errorf("%s: match %s: %v", path, p, err)
		}
		return excluded
	}
}

func TestImageGoCovers(t *testing.T) {
	tests := []struct {
		tag, want string
		ok        bool
	}{
		{"1.26", "1.26.0", true},
		{"1.26", "1.26.3", true}, // golang:1.26 is 1.26's newest release
		{"1.26.2", "1.26.3", false},
		{"1.26.3", "1.26.3", true},
		{"1.27", "1.26.0", true},
		{"1.2", "1.26.0", false}, // a prefix of the version is not the version
		{"1.25", "1.26", false},
		{"latest", "1.26.0", false},
	}
	for _, tt := range tests {
		if got := imageGoCovers(tt.tag, tt.want); got != tt.ok {
			t.Errorf("imageGoCovers(%q, %q) = %v, want %v", tt.tag, tt.want, got, tt.ok)
		}
	}
}
