package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

func TestSubscriptionsConformance(t *testing.T) {
	storetest.RunSubscriptions(t, func(t *testing.T) store.Subscriptions {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "subs.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
