package natstest

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is an embedded JetStream server a test stops and starts again, for outages: it comes back
// on the same port and storage, so clients reconnect to it and find their stream.
type Server struct {
	t    testing.TB
	dir  string
	port int
	srv  *server.Server
	// URL is the server's client URL; it does not change across restarts.
	URL string
}

// Restartable starts a Server; it is shut down when the test ends.
func Restartable(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, dir: t.TempDir(), port: server.RANDOM_PORT}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Start starts the server again after Stop; the first start picks the port kept from then on.
func (s *Server) Start() {
	s.t.Helper()
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: s.port, NoLog: true, NoSigs: true, JetStream: true, StoreDir: s.dir,
	})
	if err != nil {
		s.t.Fatalf("natstest: new server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		s.t.Fatal("natstest: server not ready")
	}
	s.srv = srv
	s.port = srv.Addr().(*net.TCPAddr).Port
	s.URL = fmt.Sprintf("nats://127.0.0.1:%d", s.port)
}

// Stop shuts the server down and waits for it; stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}
