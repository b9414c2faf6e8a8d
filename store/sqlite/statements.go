package sqlite

import (
	"context"
	"database/sql"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
)

// statementCache is how many query texts a pool keeps prepared. The store's constant texts are
// far fewer; the rest are lists of placeholders whose length varies (chunks of an import).
const statementCache = 256

// pool is the read connection pool, whose queries run as prepared statements kept by their text.
// modernc.org/sqlite compiles a query's SQL on every call otherwise, and compiling costs more
// than running the indexed lookups builds, the hub and the relay make: it was 29 % of the CPU of
// the 1,000-topic hub benchmark, where a thousand builds and deliveries each ask a handful.
//
// A statement leaves the cache when the cache is full, and is closed only once no query is
// being started with it: queries start under a read lock, closing takes the write lock. A query
// already started keeps its statement's connection until its rows are closed (database/sql).
type pool struct {
	db *sql.DB

	use     sync.RWMutex // held for reading while a query starts
	cache   *lru.Cache[string, *sql.Stmt]
	mu      sync.Mutex
	evicted []*sql.Stmt // left the cache, to close
}

func newPool(db *sql.DB, size int) *pool {
	p := &pool{db: db}
	p.cache, _ = lru.NewWithEvict(size, func(_ string, st *sql.Stmt) {
		p.mu.Lock()
		p.evicted = append(p.evicted, st)
		p.mu.Unlock()
	})
	return p
}

// stmt returns query's statement; the caller holds use for reading.
func (p *pool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := p.cache.Get(query); ok {
		return st, nil
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, found, _ := p.cache.PeekOrAdd(query, st); found {
		st.Close() // another caller prepared it first; nobody else has this one
		return prev, nil
	}
	return st, nil
}

// closeEvicted closes the statements that left the cache, once no query is starting.
func (p *pool) closeEvicted() {
	p.mu.Lock()
	n := len(p.evicted)
	p.mu.Unlock()
	if n == 0 {
		return
	}
	p.use.Lock()
	p.mu.Lock()
	list := p.evicted
	p.evicted = nil
	p.mu.Unlock()
	p.use.Unlock()
	for _, st := range list {
		st.Close()
	}
}

// with runs f with query's statement while no eviction can close it: f starts the query, and a
// query started holds its statement until its rows are closed.
func with[T any](ctx context.Context, p *pool, query string, f func(*sql.Stmt) (T, error)) (T, error) {
	defer p.closeEvicted()
	p.use.RLock()
	defer p.use.RUnlock()
	st, err := p.stmt(ctx, query)
	if err != nil {
		var zero T
		return zero, err
	}
	return f(st)
}

func (p *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return with(ctx, p, query, func(st *sql.Stmt) (*sql.Rows, error) { return st.QueryContext(ctx, args...) })
}

// QueryRowContext is sql.DB's; a query that cannot be prepared runs unprepared, for its error.
func (p *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	row, err := with(ctx, p, query, func(st *sql.Stmt) (*sql.Row, error) { return st.QueryRowContext(ctx, args...), nil })
	if err != nil {
		return p.db.QueryRowContext(ctx, query, args...)
	}
	return row
}

func (p *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return with(ctx, p, query, func(st *sql.Stmt) (sql.Result, error) { return st.ExecContext(ctx, args...) })
}

// Close closes the statements and the connections.
func (p *pool) Close() error {
	p.cache.Purge()
	p.closeEvicted()
	return p.db.Close()
}
