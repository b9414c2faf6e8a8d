package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const dockerfile = "Dockerfile"

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper-case: FROM, RUN, COPY, …
	args string
}

// parseDockerfile splits a Dockerfile into stages (each starting with its FROM) of instructions.
func parseDockerfile(t *testing.T) [][]instruction {
	t.Helper()
	b, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]instruction
	var preamble []instruction // ARGs before the first FROM
	line := ""
	for _, l := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(l)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && line == "") {
			continue
		}
		if cont, ok := strings.CutSuffix(trimmed, "\\"); ok {
			line += cont + " "
			continue
		}
		line += trimmed
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		line = ""
		switch {
		case in.cmd == "FROM":
			stages = append(stages, []instruction{in})
		case len(stages) == 0:
			preamble = append(preamble, in)
		default:
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%s: %d stages, want a builder and a final stage", dockerfile, len(stages))
	}
	stages[0] = append(preamble, stages[0]...)
	return stages
}

// find returns the arguments of every instruction cmd in a stage.
func find(stage []instruction, cmd string) []string {
	var out []string
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// jsonArgs decodes an exec-form (JSON array) ENTRYPOINT or CMD.
func jsonArgs(t *testing.T, what, s string) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(s), &args); err != nil {
		t.Fatalf("%s %s: want the exec (JSON array) form: %v", what, s, err)
	}
	return args
}

// imageCmd returns the final stage's CMD: the arguments of /syndicate when nothing overrides them.
func imageCmd(t *testing.T) []string {
	t.Helper()
	stages := parseDockerfile(t)
	cmds := find(stages[len(stages)-1], "CMD")
	if len(cmds) != 1 {
		t.Fatalf("%s: final stage has %d CMD instructions, want 1", dockerfile, len(cmds))
	}
	return jsonArgs(t, "CMD", cmds[0])
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
	stages := parseDockerfile(t)
	builder, final := stages[0], stages[len(stages)-1]

	t.Run("builder", func(t *testing.T) {
		if from := builder[slices.IndexFunc(builder, func(in instruction) bool { return in.cmd == "FROM" })].args; !strings.HasPrefix(from, "golang:") {
			t.Errorf("builder FROM %s, want golang:…", from)
		}
		// The builder's Go must be at least go.mod's: keep ARG GO_VERSION in step with it.
		want := goModVersion(t)
		found := false
		for _, arg := range find(builder, "ARG") {
			if v, ok := strings.CutPrefix(arg, "GO_VERSION="); ok {
				found = true
				if !strings.HasPrefix(want, v) {
					t.Errorf("ARG GO_VERSION=%s, but go.mod says go %s", v, want)
				}
			}
		}
		if !found {
			t.Errorf("no ARG GO_VERSION=… default for the golang image")
		}
		build := buildCommand(t, builder)
		for _, want := range []string{"-trimpath", "./cmd/syndicate"} {
			if !slices.Contains(build, want) {
				t.Errorf("go build %q lacks %s", build, want)
			}
		}
	})

	t.Run("final", func(t *testing.T) {
		users := find(final, "USER")
		if len(users) == 0 {
			t.Fatalf("final stage sets no USER: it would run as root")
		}
		user, _, _ := strings.Cut(users[len(users)-1], ":")
		if user == "root" || user == "0" || !regexp.MustCompile(`^[0-9]+$`).MatchString(user) {
			t.Errorf("USER %s: want a numeric non-root user (Kubernetes' runAsNonRoot checks the number)", users[len(users)-1])
		}
		if ep := find(final, "ENTRYPOINT"); len(ep) != 1 || !slices.Equal(jsonArgs(t, "ENTRYPOINT", ep[0]), []string{"/syndicate"}) {
			t.Errorf("ENTRYPOINT %v, want [\"/syndicate\"]", ep)
		}
		if got := configFromArgs(t, imageCmd(t)); got != configPath {
			t.Errorf("CMD reads %s, want %s", got, configPath)
		}
		if !slices.Contains(find(final, "VOLUME"), dataDir) {
			t.Errorf("VOLUME %v, want %s", find(final, "VOLUME"), dataDir)
		}
		// The image's own configuration is deploy/syndicate.yaml: its port is the one exposed.
		cfg := loadConfig(t, deployment{name: "image default", file: "syndicate.yaml"})
		if expose := find(final, "EXPOSE"); !slices.Contains(expose, httpPort(t, cfg)) {
			t.Errorf("EXPOSE %v, want the HTTP port %s", expose, httpPort(t, cfg))
		}
		if !slices.Contains(find(final, "COPY"), "deploy/syndicate.yaml "+configPath) {
			t.Errorf("the final stage does not COPY deploy/syndicate.yaml to %s", configPath)
		}
	})

	t.Run("dockerignore keeps what the build needs", func(t *testing.T) {
		ignore := readDockerignore(t, dockerfile+".dockerignore")
		need := []string{"go.mod", "go.sum"}
		for _, stage := range stages {
			for _, c := range find(stage, "COPY") {
				if strings.HasPrefix(c, "--from=") {
					continue
				}
				fields := strings.Fields(c)
				for _, src := range fields[:len(fields)-1] {
					if !strings.HasPrefix(src, "--") && src != "." {
						need = append(need, src)
					}
				}
			}
		}
		need = append(need, moduleSources(t)...)
		for _, path := range need {
			if ignore(path) {
				t.Errorf("%s.dockerignore excludes %s, which the image build needs", dockerfile, path)
			}
		}
		for _, path := range []string{".git", "bin/syndicate", "data/syndicate.db"} {
			if !ignore(path) {
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
		args := buildCommand(t, builder)
		bin := filepath.Join(t.TempDir(), "syndicate")
		for i, a := range args {
			args[i] = strings.ReplaceAll(a, "$VERSION", "deploy-test")
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

// buildCommand returns the builder's `go build …` words, after checking it runs with CGO_ENABLED=0.
func buildCommand(t *testing.T, builder []instruction) []string {
	t.Helper()
	for _, run := range find(builder, "RUN") {
		words := shellWords(run)
		for i := range words {
			if words[i] == "go" && i+1 < len(words) && words[i+1] == "build" {
				if i == 0 || words[i-1] != "CGO_ENABLED=0" {
					t.Errorf("RUN %s: go build must run with CGO_ENABLED=0", run)
				}
				return slices.Clone(words[i:])
			}
		}
	}
	t.Fatalf("%s: no RUN … go build in the builder stage", dockerfile)
	return nil
}

// shellWords splits a RUN line into words, honouring double and single quotes; --mount and other
// flags of RUN itself stay in (they come before the command).
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// goModVersion returns the go directive of the module's go.mod.
func goModVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no go directive")
	}
	return string(m[1])
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

// readDockerignore returns a matcher for a .dockerignore file: a path is excluded when the last
// pattern matching it or one of its parent directories is not a "!" exception. Patterns follow
// Docker's rules: filepath.Match syntax plus "**" for any number of directories.
func readDockerignore(t *testing.T, path string) func(string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type rule struct {
		re     *regexp.Regexp
		negate bool
	}
	var rules []rule
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		r := rule{}
		if p, ok := strings.CutPrefix(l, "!"); ok {
			l, r.negate = p, true
		}
		l = strings.Trim(filepath.ToSlash(filepath.Clean(l)), "/")
		var re strings.Builder
		for i := 0; i < len(l); i++ {
			switch {
			case strings.HasPrefix(l[i:], "**"):
				re.WriteString(".*")
				i++
			case l[i] == '*':
				re.WriteString("[^/]*")
			case l[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(l[i : i+1]))
			}
		}
		r.re = regexp.MustCompile("^" + re.String() + "$")
		rules = append(rules, r)
	}
	return func(p string) bool {
		excluded := false
		for _, r := range rules {
			for dir := p; dir != "."; dir = filepath.Dir(dir) {
				if r.re.MatchString(dir) {
					excluded = !r.negate
					break
				}
			}
		}
		return excluded
	}
}
