package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/ingest"
)

const oneItem = `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>http://up.example/</link><description>d</description>` +
	`<item><title>一条</title><link>http://up.example/1</link><guid>g1</guid><pubDate>Wed, 16 Nov 2022 08:00:00 +0800</pubDate></item></channel></rss>`

func serveFeed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/rss+xml")
	io.WriteString(w, oneItem)
}

// redirector answers every request with a redirect to target.
func redirector(target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	})
}

// addrOf is the address:port a test server listens on, for AddressPolicy.Allow.
func addrOf(srv *httptest.Server) netip.AddrPort {
	return netip.MustParseAddrPort(srv.Listener.Addr().String())
}

// withPolicy gives the poller a client whose policy treats only the allowed servers as public:
// every test server listens on loopback, which the default policy refuses.
func withPolicy(p *ingest.Poller, policy ingest.AddressPolicy, timeout time.Duration, maxRedirects int) {
	p.Client = ingest.NewClient(ingest.ClientOptions{Timeout: timeout, MaxRedirects: maxRedirects, Policy: policy})
}

// counting counts the requests a handler serves.
type counting struct {
	mu sync.Mutex
	n  int
	h  http.Handler
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	c.h.ServeHTTP(w, r)
}

func (c *counting) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestInternalAddressesRefused(t *testing.T) {
	inner := &counting{h: http.HandlerFunc(serveFeed)}
	internal := httptest.NewServer(inner)
	defer internal.Close()
	port := fmt.Sprint(addrOf(internal).Port())

	for _, tc := range []struct {
		name, target, want string
	}{
		{"loopback literal", internal.URL + "/feed", "upstream redirect to 127.0.0.1 refused: loopback address; set ingest.allow_private to allow"},
		// A name is judged by what it resolves to, when dialled.
		{"loopback by name", "http://localhost:" + port + "/feed", "refused: loopback address; set ingest.allow_private to allow"},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", "upstream redirect to 169.254.169.254 refused: link-local address; set ingest.allow_private to allow"},
		{"mapped metadata", "http://[::ffff:169.254.169.254]/latest/meta-data/", "upstream redirect to 169.254.169.254 refused: link-local address"},
		{"private", "http://10.0.0.1/", "upstream redirect to 10.0.0.1 refused: private address"},
		{"cgnat", "http://100.64.0.1/", "upstream redirect to 100.64.0.1 refused: shared (CGNAT) address"},
		{"unspecified", "http://0.0.0.0:" + port + "/", "upstream redirect to 0.0.0.0 refused: unspecified address"},
		{"unspecified v6", "http://[::]:" + port + "/", "upstream redirect to :: refused: unspecified address"},
		{"file scheme", "file:///etc/passwd", `upstream redirect to "file:" refused: only http and https are followed`},
		{"gopher scheme", "gopher://127.0.0.1:70/", `upstream redirect to "gopher:" refused`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			public := httptest.NewServer(redirector(tc.target))
			defer public.Close()
			p, st := newPoller(t)
			withPolicy(p, ingest.AddressPolicy{Allow: []netip.AddrPort{addrOf(public)}}, 5*time.Second, 5)
			_, err := p.Poll(context.Background(), ingest.Source{Name: "up", URL: public.URL, Channels: []string{"lingling"}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), "upstream redirect to") {
				t.Errorf("err = %v: does not say it was the redirect", err)
			}
			if n, _ := st.ArticleCount(context.Background()); n != 0 {
				t.Errorf("%d articles stored", n)
			}
		})
	}
	if inner.count() != 0 {
		t.Errorf("the internal server was reached %d times", inner.count())
	}

	// A source configured with an internal address is refused too, and allowed when the
	// operator says so.
	p, _ := newPoller(t)
	withPolicy(p, ingest.AddressPolicy{}, 5*time.Second, 5)
	src := ingest.Source{Name: "intranet", URL: internal.URL, Channels: []string{"lingling"}}
	_, err := p.Poll(context.Background(), src)
	var refused *ingest.RefusedError
	if !errors.As(err, &refused) || refused.Reason != "loopback" || !strings.Contains(err.Error(), "upstream address 127.0.0.1 refused: loopback address; set ingest.allow_private to allow") {
		t.Fatalf("direct poll of a loopback source: err = %v", err)
	}
	p, _ = newPoller(t)
	withPolicy(p, ingest.AddressPolicy{AllowPrivate: true}, 5*time.Second, 5)
	if res, err := p.Poll(context.Background(), src); err != nil || res.Created != 1 {
		t.Fatalf("with allow_private: %+v, %v", res, err)
	}
}

func TestRedirectLoopStops(t *testing.T) {
	var srv *httptest.Server
	loop := &counting{h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/again", http.StatusFound)
	})}
	srv = httptest.NewServer(loop)
	defer srv.Close()
	p, _ := newPoller(t)
	withPolicy(p, ingest.AddressPolicy{AllowPrivate: true}, 5*time.Second, 3)
	_, err := p.Poll(context.Background(), ingest.Source{Name: "loop", URL: srv.URL, Channels: []string{"lingling"}})
	if err == nil || !strings.Contains(err.Error(), "redirected more than 3 times") {
		t.Fatalf("err = %v", err)
	}
	if loop.count() != 4 {
		t.Errorf("%d requests; want the first and 3 redirects", loop.count())
	}
}

func TestSourceHeadersStayAtTheirOrigin(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]http.Header{}
	record := func(name string, next http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[name+r.URL.Path] = r.Header.Clone()
			mu.Unlock()
			next(w, r)
		})
	}
	other := httptest.NewServer(record("other", serveFeed))
	defer other.Close()
	mux := http.NewServeMux()
	mux.Handle("/moved", record("origin", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/feed", http.StatusFound) }))
	mux.Handle("/feed", record("origin", serveFeed))
	mux.Handle("/away", record("origin", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, other.URL+"/feed", http.StatusFound) }))
	origin := httptest.NewServer(mux)
	defer origin.Close()
	// Both listen on 127.0.0.1: only the port tells them apart.
	if addrOf(origin).Addr() != addrOf(other).Addr() {
		t.Fatalf("servers on %s and %s: the test needs one host", origin.Listener.Addr(), other.Listener.Addr())
	}

	header := map[string]string{"X-Api-Key": "secret-key", "Authorization": "Bearer secret-token"}
	for _, path := range []string{"/moved", "/away"} {
		p, _ := newPoller(t)
		src := ingest.Source{Name: "h", URL: origin.URL + path + "?key=secret-query", Channels: []string{"lingling"}, Header: header}
		if res, err := p.Poll(context.Background(), src); err != nil || res.Created != 1 {
			t.Fatalf("poll %s: %+v, %v", path, res, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, tc := range []struct {
		where string
		want  bool
	}{
		{"origin/moved", true}, {"origin/feed", true}, {"origin/away", true}, {"other/feed", false},
	} {
		h, ok := seen[tc.where]
		if !ok {
			t.Errorf("%s was not requested", tc.where)
			continue
		}
		for name, value := range header {
			if got := h.Get(name) == value; got != tc.want {
				t.Errorf("%s received %s = %q; want sent %v", tc.where, name, h.Get(name), tc.want)
			}
		}
		if h.Get("User-Agent") == "" {
			t.Errorf("%s got no User-Agent", tc.where)
		}
		if !tc.want && strings.Contains(h.Get("Referer"), "secret") {
			t.Errorf("%s received Referer %q", tc.where, h.Get("Referer"))
		}
	}
}

// allocatedDuring is how many bytes of heap fn allocated in all.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestHostileBodies(t *testing.T) {
	const capBytes = 1 << 20
	// 256 MiB of NUL bytes inside a feed's title, in a few hundred KiB: a gzip stream may be
	// many members end to end, so one compressed MiB is repeated rather than compressed again.
	member := func(s []byte) []byte {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(s)
		zw.Close()
		return b.Bytes()
	}
	bomb := bytes.NewBuffer(member([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>`)))
	zeros := member(make([]byte, 1<<20))
	for range 256 {
		bomb.Write(zeros)
	}
	bomb.Write(member([]byte(`</title></channel></rss>`)))

	laughs := `<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">` +
		`<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">`
	for i := 2; i <= 9; i++ {
		laughs += fmt.Sprintf(`<!ENTITY lol%d "%s">`, i, strings.Repeat(fmt.Sprintf("&lol%d;", i-1), 10))
	}
	laughs += `]><rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><guid>x</guid></item></channel></rss>`

	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"gzip bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		}, "larger than the 1048576-byte cap (after decompression)"},
		{"endless body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>`)
			chunk := bytes.Repeat([]byte("无尽"), 4096)
			for {
				if _, err := w.Write(chunk); err != nil {
					return // the client hung up
				}
			}
		}, "larger than the 1048576-byte cap"},
		{"entity bomb", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, laughs)
		}, "declares XML entities in its DOCTYPE: refused"},
		{"html page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<!DOCTYPE html><html><body>登录</body></html>`)
		}, "upstream returned text/html, not a feed"},
		{"html labelled as a feed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			io.WriteString(w, "\n  <!doctype HTML><html><body>维护中</body></html>")
		}, "upstream returned text/html, not a feed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			p, st := newPoller(t)
			p.MaxBytes = capBytes
			var err error
			alloc := allocatedDuring(func() {
				_, err = p.Poll(context.Background(), ingest.Source{Name: "hostile", URL: srv.URL, Channels: []string{"lingling"}})
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			// The cap is 1 MiB; the bodies are hundreds of MiB or endless.
			if alloc > 32<<20 {
				t.Errorf("the poll allocated %d MiB", alloc>>20)
			}
			if n, _ := st.ArticleCount(context.Background()); n != 0 {
				t.Errorf("%d articles stored", n)
			}
		})
	}
}

func TestSlowBodyHitsTheDeadline(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			if _, err := io.WriteString(w, "<"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	}))
	defer srv.Close()
	p, _ := newPoller(t)
	withPolicy(p, ingest.AddressPolicy{AllowPrivate: true}, 1500*time.Millisecond, 5)
	_, err := p.Poll(context.Background(), ingest.Source{Name: "slow", URL: srv.URL, Channels: []string{"lingling"}})
	if err == nil || !strings.Contains(err.Error(), "Client.Timeout") {
		t.Fatalf("a body trickling a byte a second: err = %v", err)
	}
}

// Some servers label good feeds text/html: only a document that is not a feed is refused as HTML.
func TestFeedLabelledHTMLIsAccepted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, oneItem)
	}))
	defer srv.Close()
	p, _ := newPoller(t)
	if res, err := p.Poll(context.Background(), ingest.Source{Name: "label", URL: srv.URL, Channels: []string{"lingling"}}); err != nil || res.Created != 1 {
		t.Fatalf("RSS served as text/html: %+v, %v", res, err)
	}
}

// A panic anywhere in a poll fails that poll, with its stack in the log, and counts as a failure.
func TestPollRecoversFromPanics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(serveFeed))
	defer srv.Close()
	p, _ := newPoller(t)
	var logs bytes.Buffer
	p.Log = slog.New(slog.NewTextHandler(&logs, nil))
	p.Store = nil // a poller wired without a store: its first call panics
	src := ingest.Source{Name: "broken", URL: srv.URL, Channels: []string{"lingling"}}
	_, err := p.Poll(context.Background(), src)
	if err == nil || !strings.Contains(err.Error(), "ingest broken: panic:") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(logs.String(), "upstream poll panicked") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("log lacks the panic and its stack:\n%s", logs.String())
	}
	if _, err := p.Poll(context.Background(), src); !errors.Is(err, ingest.ErrBackingOff) {
		t.Errorf("after a panic: %v; want the source backing off", err)
	}
}

// With no redirects allowed (the WebSub hub's client), a 3xx comes back as the answer, not as
// an error naming its target as if that had been fetched.
func TestNoRedirectsReturnsTheRedirect(t *testing.T) {
	var followed atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := ingest.NewClient(ingest.ClientOptions{Timeout: 5 * time.Second, MaxRedirects: 0, Policy: ingest.AddressPolicy{AllowPrivate: true}})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatalf("GET: %v, want the 307 itself", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTemporaryRedirect || followed.Load() != 0 {
		t.Errorf("status %d, target fetched %d times; want 307 and none", resp.StatusCode, followed.Load())
	}
}
