package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/schedule"
)

const jobsUsage = `usage: syndicate jobs <list|show|set|pause|resume|run> [NAME] [SPEC] [flags]

  list                 every job: schedule, next and previous run, last status
  show NAME            one job with its runs kept in the store (jobs.history.keep), all replicas'
  set NAME SPEC        change the schedule (e.g. "@every 2m", "CRON_TZ=Asia/Shanghai 0 8 * * *")
  pause NAME           stop scheduled runs
  resume NAME          start them again
  run NAME             run once now and wait for the outcome (dots on stderr while it runs;
                       a failed run exits 1); with --detach print the started run and return

It talks to a running service: --url (default: http.addr on localhost) and --token (default:
admin.token, else DATA_DIR/admin-token).
`

func jobsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var apiURL, token string
	var asJSON bool
	fs := newFlagSet("jobs", stderr, &c)
	fs.StringVar(&apiURL, "url", "", "base URL of the running service")
	fs.StringVar(&token, "token", "", "admin token")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	var detach bool
	fs.BoolVar(&detach, "detach", false, "run: return once the run started, with its id and URL")
	fs.Usage = func() { fmt.Fprint(stderr, jobsUsage); fs.PrintDefaults() }
	need := map[string]int{"list": 0, "show": 1, "set": 2, "pause": 1, "resume": 1, "run": 1}
	if err := subcommand("jobs", args, slices.Collect(maps.Keys(need)), fs.Usage, stderr); err != nil {
		return err
	}
	verb := args[0]
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != need[verb] {
		fs.Usage()
		return errUsage
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	cl := &apiClient{base: apiURL, token: token, http: &http.Client{Timeout: 10 * time.Minute}}
	if err := cl.defaults(cfg); err != nil {
		return err
	}
	var out any
	switch verb {
	case "list":
		var list []schedule.Status
		err, out = cl.do(ctx, http.MethodGet, "/api/jobs", nil, &list), &list
		if err == nil && !asJSON {
			return printJobs(stdout, list)
		}
	case "show":
		var st schedule.Status
		err, out = cl.do(ctx, http.MethodGet, "/api/jobs/"+url.PathEscape(fs.Arg(0)), nil, &st), &st
		if err == nil && !asJSON {
			return printJob(stdout, st)
		}
	case "set":
		var st schedule.Status
		err, out = cl.do(ctx, http.MethodPut, "/api/jobs/"+url.PathEscape(fs.Arg(0)), map[string]string{"schedule": fs.Arg(1)}, &st), &st
	case "pause", "resume":
		var st schedule.Status
		err, out = cl.do(ctx, http.MethodPost, "/api/jobs/"+url.PathEscape(fs.Arg(0))+"/"+verb, nil, &st), &st
	case "run":
		var r runAnswer
		r, err = cl.run(ctx, fs.Arg(0), detach, stderr)
		out = &r
		if err == nil && r.Status == schedule.StatusFailed {
			printJSON(stdout, out)
			return fmt.Errorf("jobs: run %s of %s failed: %s", r.ID, fs.Arg(0), r.Error)
		}
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, out)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// runAnswer is the API's answer about a run: the run, its job, and the URL to read it again.
type runAnswer struct {
	schedule.Run
	Job string `json:"job"`
	URL string `json:"url"`
}

// defaultRunWait is how long one request waits for a run to end: well within the server's
// web.MaxRunWait and any proxy's timeout.
const defaultRunWait = 20 * time.Second

// run starts a run of job and, unless detach, waits for its outcome: the first request waits
// up to runWait, then the run is read again every pollEvery, with a dot on progress each time
// it is still going.
func (c *apiClient) run(ctx context.Context, job string, detach bool, progress io.Writer) (runAnswer, error) {
	wait, every := c.runWait, c.pollEvery
	if wait <= 0 {
		wait = defaultRunWait
	}
	if every <= 0 {
		every = time.Second
	}
	var r runAnswer
	path := "/api/jobs/" + url.PathEscape(job) + "/run"
	if !detach {
		path += "?wait=" + wait.String()
	}
	if err := c.do(ctx, http.MethodPost, path, nil, &r); err != nil || detach {
		return r, err
	}
	dots := false
	for r.Status == schedule.StatusRunning {
		fmt.Fprint(progress, ".")
		dots = true
		// GET answers at once; wait between polls, so a long run costs a request a second.
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(every):
		}
		if err := c.do(ctx, http.MethodGet, r.URL, nil, &r); err != nil {
			return r, err
		}
	}
	if dots {
		fmt.Fprintln(progress)
	}
	return r, nil
}

type apiClient struct {
	base, token string
	http        *http.Client
	// runWait is how long one request waits for a run to end (0: defaultRunWait), pollEvery
	// the pause between reads of a run still going (0: a second).
	runWait, pollEvery time.Duration
}

// defaults fills the URL and token from the configuration the service itself reads.
func (c *apiClient) defaults(cfg *config.Config) error {
	if c.base == "" {
		_, port, err := net.SplitHostPort(cfg.HTTP.Addr)
		if err != nil {
			return fmt.Errorf("jobs: http.addr %q: %w (give --url)", cfg.HTTP.Addr, err)
		}
		c.base = "http://127.0.0.1:" + port
	}
	c.base = strings.TrimRight(c.base, "/")
	if c.token == "" {
		c.token, _, _ = strings.Cut(cfg.Admin.Token, ",")
	}
	if c.token == "" {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, "admin-token"))
		if err != nil {
			return fmt.Errorf("jobs: no admin token: give --token, set SYNDICATE_ADMIN_TOKEN, or run where %s exists", filepath.Join(cfg.DataDir, "admin-token"))
		}
		c.token, _, _ = strings.Cut(strings.TrimSpace(string(b)), ",")
	}
	return nil
}

func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("jobs: %w (is the service running at %s?)", err, c.base)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("jobs: read answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return fmt.Errorf("jobs: %s %s: %s (%d)", method, path, e.Error, resp.StatusCode)
		}
		return fmt.Errorf("jobs: %s %s: %s", method, path, resp.Status)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("jobs: decode answer: %w", err)
	}
	return nil
}

// timeLayout shows the offset, so that a time reads the same wherever the CLI runs.
const timeLayout = "2006-01-02 15:04:05 -07:00"

// when prints t in the job's zone (tz, as the API names it), e.g. 2026-11-30 18:00:02 +08:00.
func when(t *time.Time, tz string) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	if loc, err := time.LoadLocation(tz); err == nil && tz != "" {
		return t.In(loc).Format(timeLayout)
	}
	return t.Format(timeLayout) // the offset the API gave
}

func printJobs(w io.Writer, list []schedule.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSCHEDULE\tTZ\tPAUSED\tNEXT\tPREVIOUS\tSTATUS\tDURATION\tRUNS\tFAILED\tSKIPPED\tERROR")
	for _, s := range list {
		next := s.Next
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%s\t%s\t%s\t%.3fs\t%d\t%d\t%d\t%s\n", s.Name, s.Spec, s.Timezone, s.Paused,
			when(&next, s.Timezone), when(s.Previous, s.Timezone), orDash(s.LastStatus), s.LastDuration, s.Runs, s.Failures, s.Skips, orDash(s.LastError))
	}
	return tw.Flush()
}

// printJob prints the job, then its runs (every replica's, from the store), newest first.
func printJob(w io.Writer, s schedule.Status) error {
	if err := printJobs(w, []schedule.Status{s}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTART\tEND\tTRIGGER\tREPLICA\tSTATUS\tCOUNT\tDOCUMENTS\tEVENTS\tERROR")
	runs := s.History
	if s.Current != nil {
		runs = append([]schedule.Run{*s.Current}, runs...)
	}
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", orDash(r.ID), when(&r.Start, s.Timezone), when(&r.End, s.Timezone),
			r.Trigger, orDash(r.Replica), r.Status, r.Count, r.Documents, r.Events, orDash(r.Error))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
