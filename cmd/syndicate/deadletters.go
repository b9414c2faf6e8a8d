package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// deadCmd lists the events NATS refused for good (syndicate events dead).
func deadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var limit int
	fs := newFlagSet("events dead", stderr, &c)
	fs.IntVar(&limit, "limit", 100, "list at most this many, oldest first")
	if err := parse(fs, args); err != nil {
		return err
	}
	if limit < 1 {
		// Not left to the store: SQLite reads -1 as no limit, PostgreSQL refuses it.
		fmt.Fprintf(stderr, "events dead: --limit must be at least 1, not %d\n", limit)
		return errUsage
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	dead, total, err := st.DeadLetters(ctx, limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tCHANNEL\tEVENT ID\tBYTES\tPARKED\tERROR")
	for _, d := range dead {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", d.Seq, d.Channel, d.EventID, d.Size, d.DeadAt.Format(time.RFC3339), d.Error)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if int64(len(dead)) < total {
		fmt.Fprintf(stdout, "%d more; raise --limit to see them\n", total-int64(len(dead)))
	}
	return nil
}

// resendCmd makes dead letters pending again (syndicate events resend SEQ…|--all). The running
// service's relay picks them up at its next poll.
func resendCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var all bool
	fs := newFlagSet("events resend", stderr, &c)
	fs.BoolVar(&all, "all", false, "resend every dead letter")
	if err := parse(fs, args); err != nil {
		return err
	}
	if all == (fs.NArg() > 0) {
		fmt.Fprintln(stderr, "usage: syndicate events resend SEQ... | --all")
		return errUsage
	}
	var seqs []int64
	for _, a := range fs.Args() {
		seq, err := strconv.ParseInt(a, 10, 64)
		if err != nil || seq < 1 {
			return fmt.Errorf("events resend: %q is not an outbox sequence number (see syndicate events dead)", a)
		}
		seqs = append(seqs, seq)
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.ResendDead(ctx, seqs)
	if err != nil {
		return fmt.Errorf("events resend: %w", err)
	}
	fmt.Fprintf(stdout, "%d events pending again; the relay sends them at its next pass\n", n)
	return nil
}
