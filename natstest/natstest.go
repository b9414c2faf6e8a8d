// Package natstest starts real nats-servers for tests: an embedded JetStream server on a random
// port with its storage in the test's temp dir (one, a cluster, or one a test stops and starts
// again), or the external server named by SYNDICATE_TEST_NATS_URL. Tests never stub NATS. It also
// holds what every NATS test needs beside a server: a stream name of its own and a logger; tests
// wait for what a server did with internal/testwait.For.
package natstest

import (
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// EnvURL names the environment variable with an external server's URL.
const EnvURL = "SYNDICATE_TEST_NATS_URL"

// Start runs an embedded JetStream server until the test ends. dir may be "" for a new temp dir;
// pass the same dir to restart a server on the same storage.
func Start(t testing.TB, dir string) *server.Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
		JetStream: true, StoreDir: dir,
	})
	if err != nil {
		t.Fatalf("natstest: new server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("natstest: server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// Connect connects to url and drains the connection when the test ends.
func Connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name(t.Name()))
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", url, err)
	}
	t.Cleanup(func() { nc.Close() })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return nc, js
}

// Servers returns the URLs a test should run against: an embedded server always, and the
// external one when SYNDICATE_TEST_NATS_URL is set.
func Servers(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{"embedded": Start(t, "").ClientURL()}
	if u := os.Getenv(EnvURL); u != "" {
		out["external"] = u
	}
	return out
}
