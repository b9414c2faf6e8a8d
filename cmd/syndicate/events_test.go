package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// TestEventsDeadAndResend: `events dead` lists the parked rows with their errors, and `events
// resend` makes one or all of them pending again.
func TestEventsDeadAndResend(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SYNDICATE_DATA_DIR", dir)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var rows []syndicate.OutboxRow
	for _, id := range []string{"e1", "e2", "e3"} {
		rows = append(rows, syndicate.OutboxRow{EventID: id, Subject: "syndicate.items.lingling", Channel: "lingling",
			Payload: []byte(`{}`), CreatedAt: time.Now()})
	}
	if err := st.CommitBuild(ctx, store.Build{Channel: "lingling", Events: rows}); err != nil {
		t.Fatal(err)
	}
	pending, _ := st.PendingEvents(ctx, 10)
	for _, r := range pending[:2] {
		if err := st.MarkDead(ctx, r.Seq, "nats: maximum payload exceeded", time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"events", "dead"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("events dead: exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"e1", "e2", "nats: maximum payload exceeded"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("events dead lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "e3") {
		t.Errorf("events dead lists a pending row:\n%s", out.String())
	}

	out.Reset()
	if code := run(ctx, []string{"events", "resend", "999"}, nil, &out, &errOut); code == 0 {
		t.Error("events resend of a row that is not parked succeeded")
	}
	out.Reset()
	if code := run(ctx, []string{"events", "resend", "--all"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "2 events pending again") {
		t.Errorf("events resend --all: exit %d, %q, %s", code, out.String(), errOut.String())
	}
	if n, _, _ := st.OutboxStats(ctx); n != 3 {
		t.Errorf("%d rows pending after resend, want 3", n)
	}
}
