package natstest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// Cluster runs n embedded JetStream servers clustered over routes on random ports until the test
// ends, waits for the JetStream meta group to elect a leader, and returns the client URLs joined
// with commas (the form nats.url takes) and the servers.
func Cluster(t testing.TB, n int) (string, []*server.Server) {
	t.Helper()
	// Every server is given every route, so the cluster ports are reserved first. The port could
	// be taken between Close and the server's listen; the start-up then fails loudly.
	routes := make([]*url.URL, n)
	ports := make([]int, n)
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: reserve a cluster port: %v", err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		routes[i] = &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", ports[i])}
	}
	var srvs []*server.Server
	var urls []string
	for i := range n {
		s, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprint("n", i), Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true,
			JetStream: true, StoreDir: t.TempDir(),
			Cluster: server.ClusterOpts{Name: "syndicate-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:  routes,
		})
		if err != nil {
			t.Fatalf("natstest: new cluster server: %v", err)
		}
		go s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		srvs = append(srvs, s)
	}
	for _, s := range srvs {
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("natstest: cluster server not ready")
		}
		urls = append(urls, s.ClientURL())
	}
	all := strings.Join(urls, ",")
	nc, err := nats.Connect(all)
	if err != nil {
		t.Fatalf("natstest: connect to the cluster: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var last string
	testwait.For(t, "the JetStream cluster to be ready", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		if err != nil && err.Error() != last {
			last = err.Error()
			t.Logf("natstest: jetstream cluster not ready yet: %v", err)
		}
		return err == nil
	})
	return all, srvs
}
