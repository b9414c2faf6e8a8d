package postgres_test

import (
	"testing"

	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

func TestSubscriptionsConformance(t *testing.T) {
	postgrestest.DSN(t) // skip once here rather than in every subtest
	storetest.RunSubscriptions(t, func(t *testing.T) store.Subscriptions { return postgrestest.Open(t) })
}
