package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

const websubUsage = `usage: syndicate websub list [--config FILE]

Lists the built-in WebSub hub's subscriptions whose lease has not run out, by topic.`

// websubCmd is syndicate websub list: the built-in hub's subscribers, read from the store.
func websubCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand("websub", args, []string{"list"}, func() { fmt.Fprintln(stderr, websubUsage) }, stderr); err != nil {
		return err
	}
	var c common
	fs := newFlagSet("websub list", stderr, &c)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	st, err := c.openStore(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	subs, err := st.ListSubscriptions(ctx, time.Now())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tCALLBACK\tSIGNED\tLEASE\tEXPIRES")
	for _, s := range subs {
		signed := "no"
		if s.Secret != "" {
			signed = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Topic, s.Callback, signed,
			time.Duration(s.LeaseSeconds)*time.Second, s.ExpiresAt.Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d subscriptions\n", len(subs))
	return nil
}
