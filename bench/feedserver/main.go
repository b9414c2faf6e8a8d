// Command feedserver serves benchmark feeds for bench/run.sh: 50-item full-text documents rendered
// by feed.RenderAll (see bench/feeddata), either through Syndicate's real web.Server (-mode
// syndicate, metrics on as in production; with -pages also the directory, GET /, from the same
// articles in a SQLite store) or through the minimal handler of bench/bare (-mode bare). It can also write the same bytes as static files for nginx (-write) and report the
// memory a server holding many channels needs (-mem).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served on -debug only, never on the benchmarked listener
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/bench/bare"
	"github.com/yongzhou-news/syndicate/bench/feeddata"
	"github.com/yongzhou-news/syndicate/metrics"
	"github.com/yongzhou-news/syndicate/store/sqlite"
	"github.com/yongzhou-news/syndicate/web"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "feedserver:", err)
		os.Exit(1)
	}
}

func run() error {
	mode := flag.String("mode", "syndicate", "syndicate (web.Server) or bare (minimal net/http handler)")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	addrFile := flag.String("addrfile", "", "write the bound address to this file once listening")
	channels := flag.Int("channels", 1, "channels to load, 3 documents each")
	withMetrics := flag.Bool("metrics", true, "syndicate mode: count requests with metrics.Middleware, as production does")
	write := flag.String("write", "", "write the documents as static files (identity and .gz) under this directory and exit")
	mem := flag.Bool("mem", false, "load, warm up, print memory figures and exit")
	memProfile := flag.String("memprofile", "", "with -mem: write a heap profile here")
	debugAddr := flag.String("debug", "", "serve net/http/pprof on this address (a listener of its own)")
	withPages := flag.Bool("pages", false, "syndicate mode: store the channels' articles in a temporary SQLite store, so the directory (GET /) and channel pages have something to show")
	flag.Parse()

	tree, err := feeddata.Tree(*channels)
	if err != nil {
		return err
	}
	var (
		h   http.Handler
		put func(docs []syndicate.Document) error
	)
	switch {
	case *write != "":
		put = func(docs []syndicate.Document) error { return writeStatic(*write, docs) }
	case *mode == "syndicate":
		o := web.Options{Tree: tree, Site: feeddata.Site, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if *withMetrics {
			o.Metrics = metrics.New()
		}
		if *withPages {
			st, cleanup, err := pageStore(tree, *channels)
			if err != nil {
				return err
			}
			defer cleanup()
			o.Store = st
		}
		s := web.New(o)
		h = s.Handler()
		put = func(docs []syndicate.Document) error { return s.Cache().Put(docs...) }
	case *mode == "bare":
		b := bare.New()
		h = b
		put = func(docs []syndicate.Document) error { return b.Add(docs...) }
	default:
		return fmt.Errorf("unknown -mode %q", *mode)
	}
	start := time.Now()
	if err := load(tree, *channels, put); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "feedserver: loaded %d channels in %s\n", *channels, time.Since(start).Round(time.Millisecond))

	switch {
	case *write != "":
		return nil
	case *mem:
		return reportMemory(h, *channels, *memProfile)
	}
	if *debugAddr != "" {
		dl, err := net.Listen("tcp", *debugAddr)
		if err != nil {
			return err
		}
		go http.Serve(dl, http.DefaultServeMux)
	}
	return serve(h, *addr, *addrFile)
}

// load renders every channel's documents on all cores and hands them to put one channel at a
// time, as builds hand theirs to the cache, so only the loaded documents stay alive.
func load(tree *syndicate.Tree, n int, put func([]syndicate.Document) error) error {
	type result struct {
		docs []syndicate.Document
		err  error
	}
	next := make(chan int)
	results := make(chan result)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				docs, err := feeddata.Documents(tree, i)
				results <- result{docs, err}
			}
		})
	}
	go func() {
		for i := range n {
			next <- i
		}
		close(next)
		wg.Wait()
		close(results)
	}()
	var first error
	for r := range results {
		if first != nil {
			continue // drain, so the workers finish
		}
		if first = r.err; first == nil {
			first = put(r.docs)
		}
	}
	return first
}

// pageStore is a SQLite store in a temporary directory holding the channels' articles, and the
// function that removes it.
func pageStore(tree *syndicate.Tree, channels int) (*sqlite.DB, func(), error) {
	dir, err := os.MkdirTemp("", "feedserver-pages-")
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "pages.db"))
	if err == nil {
		err = feeddata.StoreArticles(ctx, st, tree, channels)
	}
	cleanup := func() {
		if st != nil {
			st.Close()
		}
		os.RemoveAll(dir)
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return st, cleanup, nil
}

// serve listens on addr with the timeouts web.Server.Listen uses, until SIGINT or SIGTERM.
func serve(h http.Handler, addr, addrFile string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	if addrFile != "" {
		if err := os.WriteFile(addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// writeStatic lays docs out as nginx serves them with gzip_static: feeds/SLUG.FORMAT and
// feeds/SLUG.FORMAT.gz, both dated like the documents so Last-Modified agrees.
func writeStatic(dir string, docs []syndicate.Document) error {
	feeds := filepath.Join(dir, "feeds")
	if err := os.MkdirAll(feeds, 0o755); err != nil {
		return err
	}
	for _, d := range docs {
		gz, err := bare.Gzip(d.Body)
		if err != nil {
			return err
		}
		name := filepath.Join(feeds, d.Channel+"."+d.Format)
		for path, b := range map[string][]byte{name: d.Body, name + ".gz": gz} {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				return err
			}
			if err := os.Chtimes(path, feeddata.Modified, feeddata.Modified); err != nil {
				return err
			}
		}
	}
	return nil
}

// reportMemory serves every document once in each representation, then prints the process's
// peak and current resident memory (/proc/self/status) and the Go heap, as key=value pairs.
func reportMemory(h http.Handler, channels int, profile string) error {
	requests := 0
	for i := range channels {
		for _, f := range syndicate.Formats {
			for _, enc := range []string{"gzip", ""} {
				r, err := http.NewRequest(http.MethodGet, "/feeds/"+feeddata.Slug(i)+"."+f, nil)
				if err != nil {
					return err
				}
				if enc != "" {
					r.Header.Set("Accept-Encoding", enc)
				}
				w := &discard{h: http.Header{}}
				h.ServeHTTP(w, r)
				if w.status != http.StatusOK {
					return fmt.Errorf("warm-up %s: status %d", r.URL.Path, w.status)
				}
				requests++
			}
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	kb := map[string]string{}
	for line := range strings.Lines(string(status)) {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "VmHWM" || k == "VmRSS") {
			kb[k] = strings.TrimSuffix(strings.TrimSpace(v), " kB")
		}
	}
	fmt.Printf("channels=%d documents=%d warmup_requests=%d vmhwm_kb=%s vmrss_kb=%s heap_inuse_bytes=%d heap_alloc_bytes=%d\n",
		channels, channels*len(syndicate.Formats), requests, kb["VmHWM"], kb["VmRSS"], ms.HeapInuse, ms.HeapAlloc)
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			return err
		}
	}
	runtime.KeepAlive(h)
	return nil
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h      http.Header
	status int
}

func (w *discard) Header() http.Header { return w.h }

func (w *discard) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discard) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
