package postgres_test

import (
	"context"
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
