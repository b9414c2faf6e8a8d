package storesql

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// Migration is one schema migration: its name (the file's, without .sql) and its SQL.
type Migration struct {
	Name, SQL string
}

// Migrations reads the migrations/*.sql files of fsys, in the order they apply (by name).
func Migrations(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	slices.Sort(names)
	out := make([]Migration, 0, len(names))
	for _, name := range names {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		out = append(out, Migration{Name: strings.TrimSuffix(path.Base(name), ".sql"), SQL: string(body)})
	}
	return out, nil
}
