package publisher

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongzhou-news/syndicate/natstest"
)

// TestEmbeddedListenerRequiresCredentials: a local process without the password can neither
// publish into the item stream nor delete it; with the password it can read the stream.
func TestEmbeddedListenerRequiresCredentials(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := Start(ctx, Options{StoreDir: t.TempDir(), Listen: "127.0.0.1:-1", User: testUser, Password: testPassword}, log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	defer func() {
		// The server holds a hash, so it neither warns about a plaintext password nor logs one.
		for _, bad := range []string{"Plaintext", testPassword} {
			if strings.Contains(logs.String(), bad) {
				t.Errorf("the embedded server's log contains %q:\n%s", bad, logs.String())
			}
		}
	}()
	// The service's own in-process connection logged in and publishes.
	if _, err := c.JetStream().Publish(ctx, "syndicate.items.a", []byte(`{}`)); err != nil {
		t.Fatalf("in-process publish: %v", err)
	}
	url := c.srv.ClientURL()

	refused := []struct {
		name string
		opts []nats.Option
	}{
		{"no credentials", nil},
		{"wrong password", []nats.Option{nats.UserInfo(testUser, "guess")}},
		{"wrong user", []nats.Option{nats.UserInfo("admin", testPassword)}},
		{"token", []nats.Option{nats.Token(testPassword)}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			nc, err := nats.Connect(url, append(tt.opts, nats.NoReconnect())...)
			if err == nil {
				nc.Close()
				t.Fatal("connected")
			}
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("connect error %v, want an authorization violation", err)
			}
		})
	}

	nc, err := nats.Connect(url, nats.UserInfo(testUser, testPassword))
	if err != nil {
		t.Fatalf("connect with the credentials: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatalf("stream through the listener: %v", err)
	}
	if n := s.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("stream holds %d messages, want 1", n)
	}
}

func TestEmbeddedAuthOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string // part of the error; "" for success
	}{
		{"listener with credentials", Options{Listen: "127.0.0.1:-1", User: "u", Password: "p"}, ""},
		{"in-process with credentials", Options{User: "u", Password: "p"}, ""},
		{"in-process without credentials", Options{}, ""},
		{"listener without credentials", Options{Listen: "127.0.0.1:-1"}, "needs a user and password"},
		{"listener without password", Options{Listen: "127.0.0.1:-1", User: "u"}, "needs a user and password"},
		{"password without user", Options{Password: "p"}, "both a user and a password"},
		{"token", Options{Token: "t"}, "external NATS"},
		{"creds file", Options{CredsFile: "x.creds"}, "external NATS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.StoreDir = t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := Start(ctx, tt.opts, natstest.Log(t))
			if err == nil {
				c.Close(ctx)
			}
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Start: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Start error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// lockedBuffer collects log output written from the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
