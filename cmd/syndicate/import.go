package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/ingest"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// importCmd stores articles from a file straight into the configured store; the service's next
// build of each channel renders them and emits their events.
func importCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c common
	var asJSON, quiet bool
	var batch int
	var every time.Duration
	fs := newFlagSet("import", stderr, &c)
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.IntVar(&batch, "batch", 0, "records stored per transaction (overrides import.batch_size)")
	fs.BoolVar(&quiet, "quiet", false, "show no progress, only the final report")
	fs.DurationVar(&every, "progress-every", 5*time.Second, "how often progress is logged when standard error is not a terminal")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 || batch < 0 || every <= 0 {
		fmt.Fprintln(stderr, "usage: syndicate import [--config FILE] [--batch N] [--quiet] [--json] FILE   (FILE is a JSON array, JSON Lines or JSON values one after another; - for stdin)")
		return errUsage
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	if batch > 0 {
		cfg.Import.BatchSize = batch
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	tree, err := cfg.Tree()
	if err != nil {
		return err
	}
	in := &countingReader{r: stdin, total: -1}
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		in.r = f
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			in.total = fi.Size()
		}
	}
	st, err := app.OpenStore(ctx, cfg.Store.DSN, cfg.DataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	if db, ok := st.(*sqlite.DB); ok {
		// SQLite's page caches would otherwise grow with the file, to 64 MiB per connection.
		db.ForgetPages()
	}
	lim := cfg.Limits.Article()
	dec := syndicate.NewDecoder(in, lim)
	im := ingest.Importer{Store: st, Tree: tree, Limits: lim, BatchSize: cfg.Import.BatchSize}
	var prog *progress
	if !quiet {
		prog = newProgress(in, stderr, log, every)
		im.Progress = prog.update
	}
	rep, importErr := im.Import(ctx, dec.Records())
	if prog != nil {
		prog.finish(rep)
	}
	if derr := dec.Err(); derr != nil && rep.Error == "" {
		rep.Error = derr.Error()
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return fmt.Errorf("import: write report: %w", err)
		}
	} else {
		fmt.Fprintf(stdout, "created %d, updated %d, unchanged %d, rejected %d\n", rep.Created, rep.Updated, rep.Unchanged, rep.RejectedCount)
		for _, r := range rep.Rejected {
			fmt.Fprintf(stdout, "  record %d", r.Index+1)
			if r.ID != "" {
				fmt.Fprintf(stdout, " (%s)", r.ID)
			}
			// The operator may see the whole error, internal details included.
			fmt.Fprintf(stdout, ": %v\n", r.Err)
		}
		if more := rep.RejectedCount - len(rep.Rejected); more > 0 {
			fmt.Fprintf(stdout, "  and %d more rejected records (limits.max_rejections lists %d)\n", more, len(rep.Rejected))
		}
		if rep.Error != "" {
			fmt.Fprintf(stdout, "stopped: %s\n", rep.Error)
		}
	}
	if importErr != nil {
		return importErr
	}
	if derr := dec.Err(); derr != nil {
		return fmt.Errorf("import %s: %w", fs.Arg(0), derr)
	}
	if rep.RejectedCount > 0 {
		return fmt.Errorf("import: %d of %d records rejected", rep.RejectedCount, rep.Records)
	}
	return nil
}
