package publisher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"golang.org/x/crypto/bcrypt"
)

// embeddedStartTimeout bounds how long Start waits for the embedded server; recovering a large
// store directory after a crash can take a while.
const embeddedStartTimeout = time.Minute

// ErrEmbeddedNoCredentials means an embedded server was asked to listen without a user and
// password: any local user could then publish forged events or delete the stream.
var ErrEmbeddedNoCredentials = errors.New("publisher: the embedded server's listener needs a user and password")

// startEmbedded runs a single-node JetStream server inside the process. Every client, in-process
// ones included, must log in with o.User and o.Password. It never installs signal handlers (the
// service owns SIGTERM) and logs through log.
func startEmbedded(ctx context.Context, o Options, log *slog.Logger) (*server.Server, error) {
	if err := embeddedAuth(o); err != nil {
		return nil, err
	}
	sopts := &server.Options{
		ServerName: o.Name,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		DontListen: o.Listen == "",
		// One user in the global account, which holds JetStream: enough to keep other local
		// users out, which is all a loopback-only server needs.
		Username: o.User,
	}
	if o.Password != "" {
		// The server warns at every start about a plaintext password. Lowest cost: the hash
		// guards nothing the data dir's password file does not already hold, and every
		// (re)connect pays for a comparison.
		hash, err := bcrypt.GenerateFromPassword([]byte(o.Password), bcrypt.MinCost)
		if err != nil {
			return nil, fmt.Errorf("publisher: embedded nats-server password: %w", err)
		}
		sopts.Password = string(hash)
	}
	if o.Listen != "" {
		host, port, err := loopbackHostPort(o.Listen)
		if err != nil {
			return nil, err
		}
		if port == 0 {
			// Port 0 is any free port to Go and to the operator, but nats-server's default 4222.
			port = server.RANDOM_PORT
		}
		sopts.Host, sopts.Port = host, port
	}
	unlock, err := lockStoreDir(o.StoreDir) // see storelock.go
	if err != nil {
		return nil, err
	}
	s, err := server.NewServer(sopts)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("publisher: embedded nats-server: %w", err)
	}
	// Whoever shuts the server down (Conn.Close, a test), the lock goes with it.
	go func() {
		s.WaitForShutdown()
		unlock()
	}()
	fatal := make(chan string, 1)
	s.SetLoggerV2(slogLogger{log: log, fatal: fatal}, log.Enabled(ctx, slog.LevelDebug), false, false)
	go s.Start()

	fail := func(err error) (*server.Server, error) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, embeddedStartTimeout)
	defer cancel()
	// Poll in short steps: a fatal start-up error (a taken port, an unusable store directory) only
	// shows in the log, and ReadyForConnections alone would wait out its whole timeout.
	for !s.ReadyForConnections(50 * time.Millisecond) {
		select {
		case msg := <-fatal:
			return fail(fmt.Errorf("publisher: embedded nats-server: %s", msg))
		case <-ctx.Done():
			return fail(fmt.Errorf("publisher: embedded nats-server not ready (store %s): %w", o.StoreDir, ctx.Err()))
		default:
		}
	}
	if !s.JetStreamEnabled() {
		return fail(fmt.Errorf("publisher: embedded nats-server started without JetStream (store %s)", o.StoreDir))
	}
	return s, nil
}

// embeddedAuth checks the embedded server's credentials: a listener needs a user and password,
// and the external-only methods cannot configure a server.
func embeddedAuth(o Options) error {
	switch {
	case o.CredsFile != "" || o.NKeySeedFile != "" || o.Token != "":
		return errors.New("publisher: a creds file, nkey seed file or token is for an external NATS (nats.url); the embedded server takes a user and password")
	case o.Listen != "" && (o.User == "" || o.Password == ""):
		return ErrEmbeddedNoCredentials
	case (o.User == "") != (o.Password == ""):
		return errors.New("publisher: the embedded server needs both a user and a password, or neither")
	}
	return nil
}

// slogLogger routes nats-server's printf-style logging to slog.
type slogLogger struct {
	log   *slog.Logger
	fatal chan<- string // receives the first fatal message, so start-up can fail fast
}

func (l slogLogger) logf(level slog.Level, format string, v []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (l slogLogger) Noticef(format string, v ...any) { l.logf(slog.LevelInfo, format, v) }
func (l slogLogger) Warnf(format string, v ...any)   { l.logf(slog.LevelWarn, format, v) }
func (l slogLogger) Errorf(format string, v ...any)  { l.logf(slog.LevelError, format, v) }
func (l slogLogger) Debugf(format string, v ...any)  { l.logf(slog.LevelDebug, format, v) }
func (l slogLogger) Tracef(format string, v ...any)  { l.logf(slog.LevelDebug-4, format, v) }

// Fatalf is logged as an error only: the server calls it on conditions it then handles by shutting
// down, and exiting the whole service from inside a library is not ours to decide.
func (l slogLogger) Fatalf(format string, v ...any) {
	l.logf(slog.LevelError, format, v)
	select {
	case l.fatal <- strings.TrimSpace(fmt.Sprintf(format, v...)):
	default:
	}
}
