package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// SubscriptionsOpener returns new, empty subscriptions; the opener's cleanup closes them.
type SubscriptionsOpener func(t *testing.T) store.Subscriptions

// RunSubscriptions runs the conformance tests of store.Subscriptions.
func RunSubscriptions(t *testing.T, open SubscriptionsOpener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Subscriptions)
	}{
		{"SaveRenewDelete", testSubscriptionRenew},
		{"LeasesExpireAndPurge", testSubscriptionExpiry},
		{"Counts", testSubscriptionCounts},
		{"SubscribersOfSeveralTopics", testSubscribersOfTopics},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

const (
	topicA = "https://news.example/feeds/local.rss"
	topicB = "https://news.example/feeds/local.atom"
)

func sub(callback, host, topic string, at time.Time, lease time.Duration) store.Subscription {
	return store.Subscription{Callback: callback, Topic: topic, Host: host, LeaseSeconds: int(lease.Seconds()),
		ExpiresAt: at.Add(lease), RenewedAt: at}
}

func save(t *testing.T, s store.Subscriptions, sb store.Subscription) store.Subscription {
	t.Helper()
	out, err := s.SaveSubscription(context.Background(), sb)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func callbacks(t *testing.T, s store.Subscriptions, topic string, now time.Time) []string {
	t.Helper()
	subs, err := s.SubscribersOf(context.Background(), []string{topic}, now)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sb := range subs {
		out = append(out, sb.Callback)
	}
	return out
}

func testSubscriptionRenew(t *testing.T, s store.Subscriptions) {
	ctx := context.Background()
	first := sub("https://reader.example/cb?id=1", "reader.example", topicA, qnow, time.Hour)
	first.Secret = "s1"
	a := save(t, s, first)
	if a.ID == 0 || !a.CreatedAt.Equal(qnow) || !a.ExpiresAt.Equal(qnow.Add(time.Hour)) || a.Secret != "s1" || a.Host != "reader.example" {
		t.Fatalf("saved %+v", a)
	}
	// A renewal keeps the ID and creation time, and takes the new lease and secret.
	later := qnow.Add(30 * time.Minute)
	renewal := sub(first.Callback, "reader.example", topicA, later, 2*time.Hour)
	b := save(t, s, renewal)
	if b.ID != a.ID || !b.CreatedAt.Equal(qnow) || !b.RenewedAt.Equal(later) || !b.ExpiresAt.Equal(later.Add(2*time.Hour)) || b.Secret != "" || b.LeaseSeconds != 7200 {
		t.Fatalf("renewed %+v, first %+v", b, a)
	}
	// The same callback on another topic is another subscription.
	c := save(t, s, sub(first.Callback, "reader.example", topicB, qnow, time.Hour))
	if c.ID == a.ID {
		t.Fatal("a second topic reused the first subscription's ID")
	}
	got, err := s.SubscriptionByID(ctx, a.ID)
	if err != nil || got.Topic != topicA || got.Callback != first.Callback {
		t.Fatalf("SubscriptionByID = %+v, %v", got, err)
	}
	if ok, err := s.DeleteSubscription(ctx, first.Callback, topicA); err != nil || !ok {
		t.Fatalf("DeleteSubscription = %v, %v; want true", ok, err)
	}
	if ok, err := s.DeleteSubscription(ctx, first.Callback, topicA); err != nil || ok {
		t.Fatalf("second DeleteSubscription = %v, %v; want false", ok, err)
	}
	if _, err := s.SubscriptionByID(ctx, a.ID); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
		t.Fatalf("SubscriptionByID after delete: %v; want ENOTFOUND", err)
	}
	if got := callbacks(t, s, topicB, qnow); len(got) != 1 {
		t.Fatalf("subscribers of the other topic after delete: %v", got)
	}
}

func testSubscriptionExpiry(t *testing.T, s store.Subscriptions) {
	ctx := context.Background()
	save(t, s, sub("https://short.example/cb", "short.example", topicA, qnow, time.Minute))
	save(t, s, sub("https://long.example/cb", "long.example", topicA, qnow, time.Hour))
	if got := callbacks(t, s, topicA, qnow.Add(59*time.Second)); len(got) != 2 {
		t.Fatalf("subscribers before the short lease ended: %v", got)
	}
	// A lease that ran out is no subscriber any more, purged or not.
	after := qnow.Add(time.Minute)
	if got := callbacks(t, s, topicA, after); len(got) != 1 || got[0] != "https://long.example/cb" {
		t.Fatalf("subscribers once the short lease ended: %v", got)
	}
	if all, err := s.ListSubscriptions(ctx, after); err != nil || len(all) != 1 {
		t.Fatalf("ListSubscriptions = %v, %v", all, err)
	}
	n, err := s.PurgeSubscriptions(ctx, after)
	if err != nil || n != 1 {
		t.Fatalf("PurgeSubscriptions = %d, %v; want 1", n, err)
	}
	// Renewing before expiry extends the lease.
	save(t, s, sub("https://long.example/cb", "long.example", topicA, qnow.Add(50*time.Minute), time.Hour))
	if got := callbacks(t, s, topicA, qnow.Add(90*time.Minute)); len(got) != 1 {
		t.Fatalf("renewed subscription gone: %v", got)
	}
	if n, err := s.PurgeSubscriptions(ctx, qnow.Add(90*time.Minute)); err != nil || n != 0 {
		t.Fatalf("PurgeSubscriptions of a renewed lease = %d, %v; want 0", n, err)
	}
}

func testSubscriptionCounts(t *testing.T, s store.Subscriptions) {
	save(t, s, sub("https://a.example/1", "a.example", topicA, qnow, time.Hour))
	save(t, s, sub("https://a.example/2", "a.example", topicA, qnow, time.Hour))
	save(t, s, sub("https://a.example/3", "a.example", topicB, qnow, time.Hour))
	save(t, s, sub("https://b.example/1", "b.example", topicA, qnow, time.Minute))
	for _, tc := range []struct {
		callback, topic, host string
		now                   time.Time
		byTopic, byHost       int
	}{
		{"https://c.example/", topicA, "a.example", qnow, 3, 3},
		{"https://c.example/", topicB, "b.example", qnow, 1, 1},
		{"https://c.example/", topicA, "b.example", qnow.Add(time.Minute), 2, 0}, // expired leases do not count
		{"https://c.example/", "https://news.example/feeds/none.rss", "none.example", qnow, 0, 0},
		{"https://a.example/1", topicA, "a.example", qnow, 2, 2}, // a renewal counts the others only
	} {
		bt, bh, err := s.CountSubscriptions(context.Background(), tc.callback, tc.topic, tc.host, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		if bt != tc.byTopic || bh != tc.byHost {
			t.Errorf("CountSubscriptions(%s, %s) = %d, %d; want %d, %d", tc.topic, tc.host, bt, bh, tc.byTopic, tc.byHost)
		}
	}
}

// One call lists the live subscribers of several topics, by topic then ID, and nothing of a
// topic it was not asked for.
func testSubscribersOfTopics(t *testing.T, s store.Subscriptions) {
	const topicC = "https://news.example/feeds/other.json"
	b1 := save(t, s, sub("https://b.example/cb/1", "b.example", topicB, qnow, time.Hour))
	a1 := save(t, s, sub("https://a.example/cb/1", "a.example", topicA, qnow, time.Hour))
	save(t, s, sub("https://a.example/cb/2", "a.example", topicA, qnow, time.Minute)) // expired at now
	b2 := save(t, s, sub("https://a.example/cb/3", "a.example", topicB, qnow, time.Hour))
	save(t, s, sub("https://c.example/cb", "c.example", topicC, qnow, time.Hour))
	now := qnow.Add(2 * time.Minute)
	subs, err := s.SubscribersOf(context.Background(), []string{topicB, topicA, "https://news.example/feeds/none.rss"}, now)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, sb := range subs {
		got = append(got, sb.ID)
	}
	// topicB ("…/local.atom") sorts before topicA ("…/local.rss"); IDs follow saving order.
	if want := []int64{b1.ID, b2.ID, a1.ID}; !slices.Equal(got, want) {
		t.Errorf("subscribers of topics B, A and one without any: IDs %v, want %v", got, want)
	}
	if subs, err := s.SubscribersOf(context.Background(), nil, now); err != nil || len(subs) != 0 {
		t.Errorf("subscribers of no topic: %v, %v; want none", subs, err)
	}
}
