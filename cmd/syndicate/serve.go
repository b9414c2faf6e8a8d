package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/yongzhou-news/syndicate/app"
)

// shutdownTimeout bounds a graceful shutdown; a second signal ends the process at once.
const shutdownTimeout = 30 * time.Second

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	var c common
	fs := newFlagSet("serve", stderr, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if _, err := a.Start(ctx); err != nil {
		a.Close(context.Background())
		return err
	}
	if a.TokenFile != "" {
		fmt.Fprintf(stderr, "admin token: %s\n", a.TokenFile)
	}
	sig := <-signals
	log.Info("shutting down; a second signal exits at once", slog.String("signal", sig.String()))
	go func() {
		<-signals
		log.Warn("second signal: exiting now")
		os.Exit(1)
	}()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := a.Close(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
