// Package publisher connects Syndicate to NATS JetStream: it runs the embedded server or dials an
// external one, with the configured authentication, and keeps the item stream configured. The
// relay package publishes into that stream and the tail package reads it.
package publisher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Client-side tuning of the JetStream context Start creates.
const (
	// DefaultMaxInFlight bounds unacknowledged asynchronous publishes on the connection. The
	// relay's chained publishes fill it (512 relayed ~7 % faster than 256; nats bench keeps 500).
	DefaultMaxInFlight = 512
	// DefaultAckWait is how long a publish waits for its ack before counting as failed.
	DefaultAckWait = 5 * time.Second
	// reconnectBufSize holds publishes made while reconnecting. The relay itself stops publishing
	// while disconnected (see relay.Relay), so this only serves other publishers on the connection.
	reconnectBufSize = 8 << 20
)

// Conn is a connection to NATS with JetStream and the item stream ensured, plus the embedded
// server when it runs one.
type Conn struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	srv    *server.Server // nil when connected to an external server
	opts   Options
	log    *slog.Logger
	closed chan struct{} // closed by the client's ClosedHandler
	ready  chan struct{} // closed when Start succeeded; orders c.js before the handlers' reads

	closeOnce sync.Once
	closeErr  error
}

// Start connects to NATS: it starts the embedded server when opts.URLs is empty (requiring
// opts.User and opts.Password of every client) and connects to it in-process, or dials the external servers and keeps reconnecting forever. Then it ensures the
// item stream (see EnsureStream).
func Start(ctx context.Context, opts Options, log *slog.Logger) (_ *Conn, err error) {
	if log == nil {
		log = slog.Default()
	}
	if opts, err = opts.withDefaults(); err != nil {
		return nil, err
	}
	c := &Conn{opts: opts, log: log, closed: make(chan struct{}), ready: make(chan struct{})}
	defer func() {
		if err != nil {
			c.Close(context.WithoutCancel(ctx))
		}
	}()

	nopts, err := c.clientOptions()
	if err != nil {
		return nil, err
	}
	url := opts.URLs
	if opts.URLs == "" {
		if c.srv, err = startEmbedded(ctx, opts, log); err != nil {
			return nil, err
		}
		url = c.srv.ClientURL()
		nopts = append(nopts, nats.InProcessServer(c.srv))
		log.Info("embedded nats-server started", slog.String("store_dir", opts.StoreDir),
			slog.String("listen", opts.Listen), slog.String("version", server.VERSION))
	}
	if c.nc, err = nats.Connect(url, nopts...); err != nil {
		return nil, fmt.Errorf("publisher: connect to nats %s: %w", redactURLs(url), err)
	}
	c.js, err = jetstream.New(c.nc,
		jetstream.WithPublishAsyncMaxPending(DefaultMaxInFlight),
		// Without a timeout a future whose ack never comes stays registered and holds a slot of
		// the max-pending budget forever.
		jetstream.WithPublishAsyncTimeout(DefaultAckWait))
	if err != nil {
		return nil, fmt.Errorf("publisher: jetstream: %w", err)
	}
	if _, err := EnsureStream(ctx, c.js, opts); err != nil {
		return nil, err
	}
	close(c.ready)
	if opts.URLs != "" {
		log.Info("connected to nats", slog.String("url", c.nc.ConnectedUrlRedacted()),
			slog.String("server_version", c.nc.ConnectedServerVersion()), slog.String("stream", opts.Stream))
	}
	return c, nil
}

// clientOptions builds the nats.go options shared by both modes, plus the external auth and TLS.
func (c *Conn) clientOptions() ([]nats.Option, error) {
	o, log := c.opts, c.log
	nopts := []nats.Option{
		nats.Name(o.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectJitter(500*time.Millisecond, time.Second),
		nats.ReconnectBufSize(reconnectBufSize),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err != nil { // nil: we closed it
				log.Warn("nats disconnected", slog.Any("error", err))
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", slog.String("url", nc.ConnectedUrlRedacted()))
			go c.reensureStream()
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(c.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			attrs := []any{slog.Any("error", err)}
			if sub != nil {
				attrs = append(attrs, slog.String("subject", sub.Subject))
			}
			log.Error("nats async error", attrs...)
		}),
	}
	if o.URLs == "" {
		// The in-process connection logs in like any other client: the server has one user.
		if o.User != "" {
			nopts = append(nopts, nats.UserInfo(o.User, o.Password))
		}
		return nopts, nil
	}
	switch {
	case o.CredsFile != "":
		nopts = append(nopts, nats.UserCredentials(o.CredsFile))
	case o.NKeySeedFile != "":
		opt, err := nats.NkeyOptionFromSeed(o.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("publisher: nkey seed file: %w", err)
		}
		nopts = append(nopts, opt)
	case o.User != "" || o.Password != "":
		nopts = append(nopts, nats.UserInfo(o.User, o.Password))
	case o.Token != "":
		nopts = append(nopts, nats.Token(o.Token))
	}
	if o.TLSCA != "" {
		nopts = append(nopts, nats.RootCAs(o.TLSCA))
	}
	if o.TLSCert != "" {
		nopts = append(nopts, nats.ClientCert(o.TLSCert, o.TLSKey))
	}
	return nopts, nil
}

// reensureStream checks the stream after a reconnect: the server we reached may be a fresh one
// that never had it (a restarted development server, a rebuilt cluster), and without the stream
// every publish of the relay fails.
func (c *Conn) reensureStream() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-c.ready:
	case <-c.closed:
		return
	case <-ctx.Done():
		return
	}
	if _, err := EnsureStream(ctx, c.js, c.opts); err != nil {
		c.log.Error("ensure stream after reconnect", slog.String("stream", c.opts.Stream), slog.Any("error", err))
	}
}

// JetStream returns the JetStream context, with bounded asynchronous publishing.
func (c *Conn) JetStream() jetstream.JetStream { return c.js }

// NATS returns the core NATS connection.
func (c *Conn) NATS() *nats.Conn { return c.nc }

// EmbeddedAddr returns the address the embedded server's TCP listener is bound to (the port
// chosen, if the options asked for a random one), or "" without an embedded listener.
func (c *Conn) EmbeddedAddr() string {
	if c.srv == nil {
		return ""
	}
	if addr := c.srv.Addr(); addr != nil {
		return addr.String()
	}
	return ""
}

// Options returns the options Start used, defaults filled in.
func (c *Conn) Options() Options { return c.opts }

// Ping checks that the connection is up and the item stream answers; it backs /readyz.
func (c *Conn) Ping(ctx context.Context) error {
	if st := c.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("publisher: nats connection is %s", st)
	}
	if _, err := c.js.Stream(ctx, c.opts.Stream); err != nil {
		return fmt.Errorf("publisher: stream %s: %w", c.opts.Stream, err)
	}
	return nil
}

// Close drains the client (delivering what it has buffered), then shuts the embedded server down
// and waits for it. It is safe to call more than once.
func (c *Conn) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		if c.nc != nil {
			c.closeErr = c.drain(ctx)
		}
		if c.srv != nil {
			c.srv.Shutdown()
			c.srv.WaitForShutdown()
			c.log.Info("embedded nats-server stopped")
		}
	})
	return c.closeErr
}

func (c *Conn) drain(ctx context.Context) error {
	if c.nc.IsClosed() {
		return nil
	}
	if err := c.nc.Drain(); err != nil {
		// Draining needs a live connection; a reconnecting one is simply closed.
		c.nc.Close()
		if errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrConnectionClosed) {
			return nil
		}
		return fmt.Errorf("publisher: drain nats connection: %w", err)
	}
	select {
	case <-c.closed:
		return nil
	case <-ctx.Done():
		c.nc.Close()
		return fmt.Errorf("publisher: drain nats connection: %w", ctx.Err())
	}
}
