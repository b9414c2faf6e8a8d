// Command syndicate serves a news portal's channels as RSS, Atom and JSON feeds built on cron
// schedules, and publishes an event on NATS JetStream for every item that enters a feed.
//
// Usage:
//
//	syndicate serve [--config FILE]
//	syndicate import [--config FILE] [--batch N] [--quiet] [--json] FILE
//	syndicate events tail [--config FILE] [--subject S]... [--since 2h|RFC3339] [--follow]
//	syndicate events dead|resend [--config FILE] [SEQ...|--all]
//	syndicate jobs list|show|set|pause|resume|run [NAME] [SPEC]
//	syndicate websub list [--config FILE]
//	syndicate version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	_ "time/tzdata" // the site's time zone must load on machines without a zoneinfo database
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

const usage = `usage: syndicate <command> [flags]

commands:
  serve          run the service (HTTP, schedules, NATS relay)
  import FILE    store articles from a file of a JSON array, JSON Lines or JSON values ("-" reads standard input)
  events tail    print events from the stream, one JSON document per line
  events dead    list events NATS refused for good (dead letters)
  events resend  make dead letters pending again (SEQ... or --all)
  jobs           list, reschedule, pause, resume or run build jobs of a running service
  websub list    list the built-in WebSub hub's subscriptions
  version        print the version

Run "syndicate <command> -h" for the flags of a command. Every setting can also be given as
an environment variable SYNDICATE_<KEY> (see README.md, Configuration).
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stderr)
	case "import":
		err = importCmd(ctx, args[1:], stdin, stdout, stderr)
	case "events":
		err = eventsCmd(ctx, args[1:], stdout, stderr)
	case "jobs":
		err = jobsCmd(ctx, args[1:], stdout, stderr)
	case "websub":
		err = websubCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "syndicate", Version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "syndicate: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if err != nil {
		switch err {
		case errHelp:
			return 0
		case errUsage:
			return 2
		}
		fmt.Fprintln(stderr, "syndicate:", err)
		return 1
	}
	return 0
}
