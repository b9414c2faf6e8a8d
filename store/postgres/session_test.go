package postgres_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
)

// A client frozen mid-transaction must not hold its locks (the lease row's, above all) until
// the server notices the dead connection: every connection ends such a session after a while,
// unless the DSN says otherwise.
func TestIdleInTransactionTimeout(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	ctx := context.Background()
	for _, tc := range []struct{ name, dsn, want string }{
		{"default", dsn, postgres.IdleInTransactionTimeout},
		{"set by the DSN", dsn + "&idle_in_transaction_session_timeout=2min", "2min"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := postgres.Open(ctx, tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			got, err := postgres.Setting(ctx, db, "idle_in_transaction_session_timeout")
			if err != nil || got != tc.want {
				t.Errorf("idle_in_transaction_session_timeout = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// pool_max_conns in the DSN sizes the pool (README, Running in production); without it pgxpool
// takes max(4, CPUs).
func TestPoolMaxConnsFromDSN(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	for _, tc := range []struct {
		name, dsn string
		want      int32
	}{
		{"default", dsn, int32(max(4, runtime.NumCPU()))},
		{"set by the DSN", dsn + "&pool_max_conns=13", 13},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := postgres.Open(context.Background(), tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := postgres.MaxConns(db); got != tc.want {
				t.Errorf("pool of %d connections, want %d", got, tc.want)
			}
		})
	}
}
