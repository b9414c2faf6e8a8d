// Package postgres is the scale-out store: PostgreSQL through pgx, shared by several Syndicate
// replicas. It keeps the same tables and semantics as store/sqlite; the differences are about
// concurrent writers, which SQLite never has.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the pg_advisory_xact_lock key under which migrations run, so replicas that
// start together apply each migration once instead of racing on CREATE TABLE. It is "syndicat"
// in ASCII, to make it recognisable in pg_locks.
const migrationLock int64 = 0x73796e6469636174

// DB is a store.Store on a PostgreSQL database. Tables live in the connection's current schema,
// so a search_path in the DSN gives each deployment (or test) its own.
type DB struct {
	pool *pgxpool.Pool
	// claimant names this process in outbox claims; ClaimTTL is how long a claim keeps other
	// relays off a channel without being renewed by a new PendingEvents call.
	claimant string
	ClaimTTL time.Duration
	// Tuning holds the queries' cost knobs; Open sets store.DefaultTuning.
	Tuning store.Tuning
}

var _ store.Store = (*DB)(nil)

// Tune implements store.Tunable.
func (s *DB) Tune() *store.Tuning { return &s.Tuning }

// IdleInTransactionTimeout ends a session whose client stops talking in the middle of a
// transaction: a replica frozen (SIGSTOP, a partition that drops packets) after its build's fence
// check holds the lease row's share lock, and no other replica could take the job over until the
// server noticed the dead connection, which can take hours. No transaction of ours waits on its
// client that long. A DSN that sets idle_in_transaction_session_timeout itself wins.
const IdleInTransactionTimeout = "15s"

const idleInTxParam = "idle_in_transaction_session_timeout"

// Open connects to the database named by dsn (postgres://…, with any pgx or pgxpool parameter,
// e.g. search_path or pool_max_conns) and applies pending migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgconn redacts the password from its parse errors; the DSN itself is not repeated.
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	if _, set := cfg.ConnConfig.RuntimeParams[idleInTxParam]; !set {
		cfg.ConnConfig.RuntimeParams[idleInTxParam] = IdleInTransactionTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	s := &DB{pool: pool, claimant: newClaimant(), ClaimTTL: 30 * time.Second, Tuning: store.DefaultTuning()}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes every connection of the pool.
func (s *DB) Close() error {
	s.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

func (s *DB) migrate(ctx context.Context) error {
	all, err := storesql.Migrations(migrations)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockMigrations(ctx, tx); err != nil {
			return err
		}
		// Under the lock: two sessions running CREATE TABLE IF NOT EXISTS together can still
		// both try to create the table and one fails on pg_type's unique index.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("postgres: create schema_migrations: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range all {
		if err := s.applyMigration(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

// applyMigration runs one migration in its own transaction, holding the migration lock until it
// commits, so a replica waiting on the lock then sees it recorded.
func (s *DB) applyMigration(ctx context.Context, m storesql.Migration) error {
	base := m.Name
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockMigrations(ctx, tx); err != nil {
			return err
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, base).Scan(&done); err != nil {
			return fmt.Errorf("postgres: check migration %s: %w", base, err)
		}
		if done {
			return nil
		}
		// Without arguments pgx uses the simple protocol, which runs a multi-statement file.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("postgres: apply migration %s: %w", base, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, base); err != nil {
			return fmt.Errorf("postgres: record migration %s: %w", base, err)
		}
		return nil
	})
}

func lockMigrations(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: take migration lock: %w", err)
	}
	return nil
}

// inTx runs fn in a read-committed transaction, committing when it returns nil.
func (s *DB) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.inTxOpts(ctx, pgx.TxOptions{}, fn)
}

func (s *DB) inTxOpts(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		// A failed rollback leaves nothing to do: pgx closes the connection, which aborts it.
		_ = tx.Rollback(ctx)
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}

// optTime stores a zero time as NULL.
func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromOptTime reads NULL as the zero time, and any other in UTC.
func fromOptTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func utc(t time.Time) time.Time { return t.UTC() }
