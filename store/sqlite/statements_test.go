package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
)

// A pool smaller than the texts it runs evicts statements while other goroutines start queries
// with them and read their rows: none may find its statement closed, and every answer is right.
func TestPoolEvictsOnlyIdleStatements(t *testing.T) {
	p := testPool(t, 2)
	ctx := context.Background()
	if _, err := p.ExecContext(ctx, `CREATE TABLE n (v INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.ExecContext(ctx, `INSERT INTO n (v) VALUES (1), (2), (3)`); err != nil {
		t.Fatal(err)
	}
	const texts, workers, rounds = 8, 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				k := (w + r) % texts
				// Each k is a text of its own; the sum of v+k over the three rows is 6+3k.
				q := fmt.Sprintf(`SELECT v + %d FROM n ORDER BY v`, k)
				var sum int
				if r%2 == 0 {
					rows, err := p.QueryContext(ctx, q)
					if err != nil {
						errs <- fmt.Errorf("query %d: %w", k, err)
						return
					}
					for rows.Next() {
						var v int
						if err := rows.Scan(&v); err != nil {
							errs <- err
							return
						}
						sum += v
					}
					if err := rows.Close(); err != nil {
						errs <- err
						return
					}
				} else {
					err := p.QueryRowContext(ctx, fmt.Sprintf(`SELECT sum(v + %d) FROM n`, k)).Scan(&sum)
					if err != nil {
						errs <- fmt.Errorf("query row %d: %w", k, err)
						return
					}
				}
				if sum != 6+3*k {
					errs <- fmt.Errorf("text %d: sum %d, want %d", k, sum, 6+3*k)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := p.cache.Len(); n > 2 {
		t.Errorf("cache holds %d statements; want at most 2", n)
	}
}

// A query that cannot be prepared reports the engine's error, through QueryRowContext too.
func TestPoolReportsBadSQL(t *testing.T) {
	p := testPool(t, 2)
	var n int
	if err := p.QueryRowContext(context.Background(), `SELECT nope FROM nowhere`).Scan(&n); err == nil {
		t.Error("QueryRowContext of a bad query: no error")
	}
	if _, err := p.QueryContext(context.Background(), `SELECT nope FROM nowhere`); err == nil {
		t.Error("QueryContext of a bad query: no error")
	}
}

// testPool is a pool of size statements on a new SQLite file.
func testPool(t *testing.T, size int) *pool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "pool.db"))
	if err != nil {
		t.Fatal(err)
	}
	p := newPool(db, size)
	t.Cleanup(func() { p.Close() })
	return p
}
