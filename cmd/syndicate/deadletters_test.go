package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestEventsDeadLimit: a --limit below 1 is a usage error on every store, not "no limit" on
// SQLite and an error on PostgreSQL.
func TestEventsDeadLimit(t *testing.T) {
	t.Setenv("SYNDICATE_DATA_DIR", t.TempDir())
	for _, limit := range []string{"0", "-1"} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"events", "dead", "--limit", limit}, nil, &out, &errOut)
		if code != 2 || !strings.Contains(errOut.String(), "--limit must be at least 1") {
			t.Errorf("events dead --limit %s: exit %d, stdout %q, stderr %q; want a usage error", limit, code, out.String(), errOut.String())
		}
	}
}
