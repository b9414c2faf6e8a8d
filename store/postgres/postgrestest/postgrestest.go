// Package postgrestest gives tests a PostgreSQL store of their own: a fresh schema with a random
// name in the server named by SYNDICATE_TEST_PG_DSN, dropped when the test ends, so tests can run
// in parallel, in several packages and on a shared server without seeing each other's rows. It
// lives apart from store/postgres so that production code never imports "testing".
package postgrestest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/yongzhou-news/syndicate/store/postgres"
)

// EnvDSN names the variable holding the test server's DSN, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvDSN = "SYNDICATE_TEST_PG_DSN"

// DSN returns the test server's DSN, or skips t when EnvDSN is not set.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		t.Skip(EnvDSN + " is not set: PostgreSQL store tests skipped")
	}
	return dsn
}

// Schema creates an empty schema with a random name on the server at dsn, drops it with
// everything in it when t ends, and returns a DSN whose connections use it (search_path).
func Schema(t testing.TB, dsn string) string {
	t.Helper()
	name := "syndicate_test_" + strings.ToLower(rand.Text())
	exec(t, dsn, `CREATE SCHEMA `+name)
	t.Cleanup(func() { exec(t, dsn, `DROP SCHEMA `+name+` CASCADE`) })
	return withSearchPath(t, dsn, name)
}

// KeptSchema creates the schema name on the server at dsn unless it exists, keeps it after t
// ends, and returns a DSN whose connections use it. Benchmarks use it to fill a large store once
// and reuse it between runs.
func KeptSchema(t testing.TB, dsn, name string) string {
	t.Helper()
	if name != strings.ToLower(name) || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		t.Fatalf("postgrestest: schema name %q: only lower-case letters, digits and _", name)
	}
	exec(t, dsn, `CREATE SCHEMA IF NOT EXISTS `+name)
	return withSearchPath(t, dsn, name)
}

// Open opens a postgres.DB on a fresh schema of the test server (see DSN and Schema) and closes it
// when t ends. It skips t when EnvDSN is not set.
func Open(t testing.TB) *postgres.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, Schema(t, DSN(t)))
	if err != nil {
		t.Fatal(err)
	}
	// Registered after Schema's cleanup, so it runs first: the pool is gone before the drop.
	t.Cleanup(func() { s.Close() })
	return s
}

// withSearchPath adds search_path to a URL or keyword/value DSN; pgx sends parameters it does not
// know itself to the server as run-time settings.
func withSearchPath(t testing.TB, dsn, schema string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("postgrestest: parse %s: %v", EnvDSN, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func exec(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("postgrestest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("postgrestest: %s: %v", sql, err)
	}
}
