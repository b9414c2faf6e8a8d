package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/store"
)

// errUsage means the flag package already printed what was wrong; errHelp that help was asked
// for and printed (exit 0).
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

// subcommand checks a command's first argument against its subcommands before anything else is
// read (configuration, admin token): help is printed as asked (errHelp), a missing or unknown
// subcommand is named, with the usage (errUsage).
func subcommand(cmd string, args []string, known []string, usage func(), stderr io.Writer) error {
	switch {
	case len(args) == 0:
		usage()
		return errUsage
	case args[0] == "-h" || args[0] == "--help" || args[0] == "help":
		usage()
		return errHelp
	case !slices.Contains(known, args[0]):
		fmt.Fprintf(stderr, "syndicate %s: unknown command %q\n\n", cmd, args[0])
		usage()
		return errUsage
	}
	return nil
}

// common are the flags every command takes.
type common struct {
	configFile string
	logFormat  string
	logLevel   string
}

func newFlagSet(name string, stderr io.Writer, c *common) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.configFile, "config", "", "YAML configuration `file` (default: built-in portal configuration)")
	fs.StringVar(&c.logFormat, "log-format", "", "log format: json or text (overrides log.format)")
	fs.StringVar(&c.logLevel, "log-level", "", "log level: debug, info, warn, error (overrides log.level)")
	return fs
}

// parse parses flags wherever they stand among the arguments ("jobs show NAME --json" as well as
// "jobs show --json NAME"); the flag package alone stops at the first argument. The positional
// arguments are left in fs.Args().
func parse(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return errHelp // the flag package printed the help
			}
			return errUsage // the flag package printed what was wrong
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	// Parse once more with only the positional arguments, after "--", so fs.Args() holds them.
	return fs.Parse(append([]string{"--"}, positional...))
}

// load reads the configuration and applies the log flags.
func (c *common) load() (*config.Config, error) {
	cfg, err := config.Load(c.configFile, os.Environ())
	if err != nil {
		return nil, err
	}
	if c.logFormat != "" {
		cfg.Log.Format = c.logFormat
	}
	if c.logLevel != "" {
		cfg.Log.Level = c.logLevel
	}
	return cfg, nil
}

// newLogger is the one place logging is set up.
func newLogger(cfg *config.Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Log.Level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", cfg.Log.Level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(cfg.Log.Format) {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want json or text", cfg.Log.Format)
}

// openStore loads the configuration and opens its store, for the commands that only read or
// change the store; the caller closes it.
func (c *common) openStore(ctx context.Context) (store.Store, error) {
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	return app.OpenStore(ctx, cfg.Store.DSN, cfg.DataDir)
}
