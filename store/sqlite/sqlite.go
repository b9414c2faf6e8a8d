// Package sqlite is the single-process store: one SQLite file through the pure-Go
// modernc.org/sqlite driver, so the binary builds with CGO_ENABLED=0.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/internal/storesql"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a store.Store on one SQLite file.
type DB struct {
	db   *pool // reads, and writes outside transactions
	path string
	// w is the one connection write transactions use, kept open with its statements prepared
	// (writes): the pool's connections come and go, and a statement prepared on one of them
	// was parsed again on the next. Reads use db.
	w      *sql.DB
	writes map[string]*sql.Stmt // writeStatements, prepared on w
	// queue holds this process's write transactions waiting for the writer (see inTx).
	queue writeQueue
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Tuning holds the queries' cost knobs; Open sets store.DefaultTuning.
	Tuning store.Tuning
}

var _ store.Store = (*DB)(nil)

// Tune implements store.Tunable.
func (s *DB) Tune() *store.Tuning { return &s.Tuning }

// Open opens (creating if needed) the SQLite file at path and applies pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: create directory for %s: %w", path, err)
		}
	}
	// WAL lets feed reads go on while a build writes; immediate transactions take the write lock
	// up front, so two writers wait on busy_timeout instead of failing with SQLITE_BUSY on upgrade.
	dsn := func(cacheKiB int) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)", fmt.Sprintf("cache_size(-%d)", cacheKiB)} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		return "file:" + path + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn(readCacheKiB))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w, err := sql.Open("sqlite", dsn(writeCacheKiB))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxIdleConns(readIdleConns)
	db.SetConnMaxIdleTime(time.Minute)
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	s := &DB{db: newPool(db, statementCache), w: w, path: path, Now: time.Now, Tuning: store.DefaultTuning()}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// Prepared once the tables exist, and before any transaction: w's one connection is then free.
	s.writes = make(map[string]*sql.Stmt, len(writeStatements))
	for _, q := range writeStatements {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlite: prepare %.40q: %w", q, err)
		}
		s.writes[q] = st
	}
	return s, nil
}

// writeStatements are the statements write transactions run most: a run log entry per run's
// start and end, a commit per channel build, the relay's marks, the WebSub queue's per delivery.
var writeStatements = []string{sqlSaveRun, sqlLastRun, sqlPruneRuns, sqlMarkSent,
	sqlSaveDocument, sqlAddOutbox, sqlForgetItem, sqlAnnounceItem, sqlSaveSanitized, sqlSaveBuildState,
	sqlEnqueue, sqlClaimDue, sqlFinish, sqlRequeue, sqlSavepoint, sqlRelease, sqlRollbackTo}

// exec runs query in tx, prepared if it is one of writeStatements: parsing the run log's three
// statements was three fifths of its CPU with a thousand jobs ticking each second.
func (s *DB) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st, ok := s.writes[query]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// query is exec's counterpart for statements that return rows.
func (s *DB) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if st, ok := s.writes[query]; ok {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// Page cache per connection (SQLite's cache_size), in KiB. Reads get a large one; the writer
// connection, which stays open, a small one: it would otherwise keep every page it ever wrote
// (a thousand channels' documents), and a write needs little more than the paths down its
// B-trees.
const (
	readCacheKiB  = 65536
	writeCacheKiB = 4096
)

// readIdleConns is how many readers stay open when idle: enough for the builds, the hub, the
// relay and the queue to find one with their statements prepared (a new connection prepares
// them again). They close after a quiet minute, with their page caches.
const readIdleConns = 8

// Close closes the database.
func (s *DB) Close() error {
	for _, st := range s.writes {
		st.Close()
	}
	return errors.Join(s.db.Close(), s.w.Close())
}

// Ping checks that the file can be read.
func (s *DB) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT 1`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping %s: %w", s.path, err)
	}
	return nil
}

func (s *DB) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: create schema_migrations: %w", err)
	}
	all, err := storesql.Migrations(migrations)
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	for _, m := range all {
		if err := s.applyMigration(ctx, m); err != nil {
			return err
		}
	}
	return nil
}

func (s *DB) applyMigration(ctx context.Context, m storesql.Migration) error {
	base := m.Name
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE name = ?`, base).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: check migration %s: %w", base, err)
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("sqlite: apply migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
			base, s.Now().UnixMicro()); err != nil {
			return fmt.Errorf("sqlite: record migration %s: %w", base, err)
		}
		return nil
	})
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// optMicros stores a zero time as 0.
func optMicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return micros(t)
}

// fromOptMicros reads 0 as the zero time.
func fromOptMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return fromMicros(v)
}
