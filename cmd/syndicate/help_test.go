package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Help works before anything is configured (no data dir, no admin token), exits 0, and an
// unknown subcommand is named with exit status 2.
func TestSubcommandHelpAndUnknown(t *testing.T) {
	t.Setenv("SYNDICATE_DATA_DIR", t.TempDir()+"/never-created")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"jobs", "-h"}, 0, "usage: syndicate jobs"},
		{[]string{"jobs", "--help"}, 0, "usage: syndicate jobs"},
		{[]string{"jobs", "help"}, 0, "usage: syndicate jobs"},
		{[]string{"jobs", "list", "-h"}, 0, "usage: syndicate jobs"},
		{[]string{"jobs", "bogus"}, 2, `syndicate jobs: unknown command "bogus"`},
		{[]string{"jobs"}, 2, "usage: syndicate jobs"},
		{[]string{"events", "-h"}, 0, "usage: syndicate events"},
		{[]string{"events", "bogus"}, 2, `syndicate events: unknown command "bogus"`},
		{[]string{"websub", "-h"}, 0, "usage: syndicate websub"},
		{[]string{"websub", "bogus"}, 2, `syndicate websub: unknown command "bogus"`},
		{[]string{"import", "-h"}, 0, "Usage of import"},
	} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), tc.args, nil, &out, &errOut)
		if code != tc.code || !strings.Contains(errOut.String()+out.String(), tc.want) {
			t.Errorf("syndicate %s: exit %d, output %q; want exit %d and %q", strings.Join(tc.args, " "), code, errOut.String(), tc.code, tc.want)
		}
	}
}
