package postgrestest

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/yongzhou-news/syndicate/proxytest"
	"github.com/yongzhou-news/syndicate/store/postgres"
)

// Proxied puts a proxytest.Proxy between the test and the server dsn names, and returns it with
// a DSN that connects through it: the test cuts or pauses the proxy to take the database away
// from whatever opened that DSN. It skips t when dsn names a Unix socket, which cannot be proxied.
func Proxied(t testing.TB, dsn string) (*proxytest.Proxy, string) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatalf("postgrestest: parse %s: %v", EnvDSN, err)
	}
	if strings.HasPrefix(cfg.Host, "/") {
		t.Skipf("%s names a Unix socket (%s): tests that cut the database link need a TCP server to proxy", EnvDSN, cfg.Host)
	}
	p := proxytest.Start(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	return p, via(t, dsn, p.Addr())
}

// via returns dsn with the server's address replaced by addr (host:port).
func via(t testing.TB, dsn, addr string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatal(err)
		}
		// Keyword/value form: a repeated keyword overrides the earlier one.
		return dsn + " host=" + host + " port=" + port
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("postgrestest: parse %s: %v", EnvDSN, err)
	}
	u.Host = addr
	return u.String()
}

// OpenProxied opens a store on a fresh schema through a proxytest.Proxy and closes it when t
// ends: the test cuts or pauses the proxy to take the database away from the store.
func OpenProxied(t testing.TB) (*postgres.DB, *proxytest.Proxy) {
	t.Helper()
	link, dsn := Proxied(t, Schema(t, DSN(t)))
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, link
}
