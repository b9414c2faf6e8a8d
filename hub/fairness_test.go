package hub

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/store"
)

// loopbackServer serves handler on ip, one of the 127.0.0.0/8 addresses Linux answers on: a
// callback host of its own without DNS.
func loopbackServer(t *testing.T, ip string, handler http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Skipf("cannot listen on %s (loopback /8 not routed here): %v", ip, err)
	}
	s := httptest.NewUnstartedServer(handler)
	s.Listener.Close()
	s.Listener = l
	s.Start()
	return s
}

// TestDeadHostDelaysNoOtherHost: one callback host hangs on every delivery and 50 healthy hosts
// share its lane. The healthy ones all receive the change within a bound far below the hub's
// timeout, while the dead host never has more than PerHost requests hanging.
func TestDeadHostDelaysNoOtherHost(t *testing.T) {
	st := openSQLite(t)
	opt := fast(st, testTree(t))
	opt.Timeout = 10 * testwait.Timeout // the dead host's requests hang for the whole test
	h, _ := startHub(t, opt)
	topic := site.FeedURL("local", "rss")
	ctx := context.Background()

	release := make(chan struct{})
	var hanging, maxHanging atomic.Int64
	dead := loopbackServer(t, "127.0.1.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hanging.Add(1)
		for {
			m := maxHanging.Load()
			if n <= m || maxHanging.CompareAndSwap(m, n) {
				break
			}
		}
		<-release
		hanging.Add(-1)
	}))
	t.Cleanup(func() { close(release) }) // before the server's and the hub's cleanups
	lane := h.lane("127.0.1.1")
	save := func(callback, host string) {
		t.Helper()
		now := time.Now()
		if _, err := st.SaveSubscription(ctx, store.Subscription{Callback: callback, Topic: topic, Host: host, LeaseSeconds: 3600,
			ExpiresAt: now.Add(time.Hour), CreatedAt: now, RenewedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	// The dead host's subscribers come first, and outnumber the lane's slots.
	for i := range 3 * h.opt.Delivery.PerHub {
		save(fmt.Sprintf("%s/more/%d", dead.URL, i), "127.0.1.1")
	}
	var healthy []*atomic.Int64
	for b := 2; len(healthy) < 50; b++ {
		ip := fmt.Sprintf("127.0.%d.%d", 2+b/250, 1+b%250)
		if h.lane(ip) != lane {
			continue
		}
		var got atomic.Int64
		s := loopbackServer(t, ip, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(s.Close)
		healthy = append(healthy, &got)
		save(s.URL+"/cb", ip)
	}

	start := time.Now()
	h.Publish(commitDoc(t, st, "local", "rss", "<rss><channel><title>l</title></channel></rss>"))
	// The wait's bound is a tenth of the hub's timeout: a healthy delivery served within it did
	// not wait for a dead one.
	testwait.For(t, "every healthy subscriber served while a dead host hangs", func() bool {
		for _, g := range healthy {
			if g.Load() == 0 {
				return false
			}
		}
		return true
	})
	t.Logf("50 healthy hosts served in %v; dead host: %d requests hanging", time.Since(start), hanging.Load())
	if hanging.Load() == 0 {
		t.Error("the dead host got no delivery at all")
	}
	if m := maxHanging.Load(); m > int64(h.opt.PerHost) {
		t.Errorf("%d requests hung on the dead host at once; want at most PerHost = %d", m, h.opt.PerHost)
	}
}
