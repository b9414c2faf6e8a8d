package cluster_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

// A replica that missed the notice of another's build (its builder died before announcing, or
// the reread failed) serves the store's document again within one reconcile interval; documents
// it already serves as saved are not reread.
func TestReconcileRereadsWhatDiffers(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	doc := func(channel, body string) syndicate.Document {
		return syndicate.Document{Channel: channel, Format: "rss", Body: []byte(body), ETag: syndicate.ETagOf([]byte(body)), Modified: time.Now().Truncate(time.Second)}
	}
	oldDoc, newDoc, same := doc("lingling", "<rss>old</rss>"), doc("lingling", "<rss>new</rss>"), doc("qiyang", "<rss>祁阳</rss>")
	for _, d := range []syndicate.Document{newDoc, same} { // what the other replica's builds saved
		if err := st.CommitBuild(context.Background(), store.Build{Channel: d.Channel, Documents: []syndicate.Document{d}}); err != nil {
			t.Fatal(err)
		}
	}
	cache := web.NewCache(1 << 20)
	if err := cache.Put(oldDoc, same); err != nil { // this replica missed lingling's notice
		t.Fatal(err)
	}
	counting := &countingStore{TagStore: st, count: map[string]int{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go cluster.Reconcile(ctx, 10*time.Millisecond, counting, cache, quiet())
	testwait.For(t, "the missed document served as the store has it", func() bool { return cache.ETag("lingling", "rss") == newDoc.ETag })
	if got := counting.reads("qiyang"); got != 0 {
		t.Errorf("a document served as saved was reread %d times", got)
	}
}

// countingStore counts the documents Reconcile rereads, by channel.
type countingStore struct {
	cluster.TagStore
	mu    sync.Mutex
	count map[string]int
}

func (c *countingStore) Document(ctx context.Context, channel, format string) (syndicate.Document, error) {
	c.mu.Lock()
	c.count[channel]++
	c.mu.Unlock()
	return c.TagStore.Document(ctx, channel, format)
}

func (c *countingStore) reads(channel string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[channel]
}
