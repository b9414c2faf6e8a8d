package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/store"
)

// importCmd stores articles from a file straight into the configured store; the service's next
// build of each channel renders them and emits their events.
func importCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var c common
	var asJSON bool
	fs := newFlagSet("import", stderr, &c)
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: syndicate import [--config FILE] FILE   (FILE is a JSON array or JSON Lines; - for stdin)")
		return errUsage
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	tree, err := cfg.Tree()
	if err != nil {
		return err
	}
	in := stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		in = f
	}
	st, err := app.OpenStore(ctx, cfg.Store.DSN)
	if err != nil {
		return err
	}
	defer st.Close()
	lim := cfg.Limits.Article()
	dec := syndicate.NewDecoder(in, lim)
	rep, importErr := store.ImportRecords(ctx, st, tree, lim, dec.Records())
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
