package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
)

// syndicate websub list shows live subscriptions, whether they are signed, and never a secret.
func TestWebSubList(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SYNDICATE_DATA_DIR", dir)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "syndicate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for _, s := range []store.Subscription{
		{Callback: "https://reader.example/cb/1", Topic: "https://news.example/feeds/lingling.rss", Host: "reader.example",
			Secret: "hush-hush", LeaseSeconds: 3600, ExpiresAt: now.Add(time.Hour), RenewedAt: now},
		{Callback: "https://gone.example/cb", Topic: "https://news.example/feeds/lingling.atom", Host: "gone.example",
			LeaseSeconds: 60, ExpiresAt: now.Add(-time.Minute), RenewedAt: now.Add(-2 * time.Minute)},
	} {
		if _, err := st.SaveSubscription(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"websub", "list"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("websub list: exit %d: %s", code, errOut.String())
	}
	got := out.String()
	for _, want := range []string{"https://reader.example/cb/1", "lingling.rss", "yes", "1h0m0s", "1 subscriptions"} {
		if !strings.Contains(got, want) {
			t.Errorf("websub list lacks %q:\n%s", want, got)
		}
	}
	for _, never := range []string{"hush-hush", "gone.example"} {
		if strings.Contains(got, never) {
			t.Errorf("websub list shows %q:\n%s", never, got)
		}
	}
	if code := run(ctx, []string{"websub"}, nil, &out, &errOut); code != 2 {
		t.Errorf("websub without a subcommand: exit %d, want 2", code)
	}
}
