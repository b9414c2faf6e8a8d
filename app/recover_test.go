package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// logBuffer collects a service's log lines for assertions; handlers write from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// newLoggedApp is newApp with its log kept for the test to read.
func newLoggedApp(t *testing.T, env ...string) (*app.App, *httptest.Server, *logBuffer) {
	t.Helper()
	cfg, err := config.Load("", append([]string{
		"SYNDICATE_DATA_DIR=" + t.TempDir(), "SYNDICATE_NATS_LISTEN=", "SYNDICATE_DEMO=false",
		"SYNDICATE_ADMIN_TOKEN=" + token, "SYNDICATE_HTTP_ADDR=127.0.0.1:0",
	}, env...))
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	var w io.Writer = logs
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(w, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Web.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := a.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a, srv, logs
}

// panicOnce is the real store, except that the first NewestItems (builds) panics. The relay's
// panics are tested in package relay (supervise_test.go).
type panicOnce struct {
	store.Store
	newest atomic.Bool
}

func (p *panicOnce) NewestItems(ctx context.Context, channels []string, limit int) ([]syndicate.Article, error) {
	if p.newest.CompareAndSwap(false, true) {
		panic("store exploded in NewestItems")
	}
	return p.Store.NewestItems(ctx, channels, limit)
}

// A build job that panics is a failed run with the panic in its history and the stack in the
// log; the next run of the same job works.
func TestJobPanicIsAFailedRun(t *testing.T) {
	a, srv, logs := newLoggedApp(t)
	a.Builder.Store = &panicOnce{Store: a.Store}
	if code, body := post(t, srv, token, fixture(t)); code != http.StatusCreated {
		t.Fatalf("post article: %d %s", code, body)
	}
	job := app.BuildJobName("lingling")
	r, err := a.Scheduler.RunNow(context.Background(), job)
	if err != nil || r.Status != "failed" || !strings.Contains(r.Error, "panic: store exploded in NewestItems") {
		t.Fatalf("panicking run = %+v, %v; want failed with the panic message", r, err)
	}
	if log := logs.String(); !strings.Contains(log, "job panicked") || !strings.Contains(log, "panicOnce).NewestItems") {
		t.Errorf("no log of the panic with its stack:\n%s", log)
	}
	if r, err := a.Scheduler.RunNow(context.Background(), job); err != nil || r.Status != "ok" || r.Count != 1 {
		t.Fatalf("run after the panic = %+v, %v", r, err)
	}
	var st struct {
		Panics  int
		History []struct{ Status, Error string }
	}
	if code := api(t, "GET", srv.URL+"/api/jobs/"+job, token, "", &st); code != http.StatusOK {
		t.Fatalf("GET job: %d", code)
	}
	if st.Panics != 1 || len(st.History) != 2 || st.History[1].Status != "failed" || !strings.Contains(st.History[1].Error, "panic:") || st.History[0].Status != "ok" {
		t.Errorf("job status after a panic and a good run: %+v", st)
	}
	resp := get(t, srv.URL+"/metrics")
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), `syndicate_job_panics_total{job="build:lingling"} 1`) {
		t.Errorf("/metrics does not count the job panic")
	}
}

// An article stored with a date the encoders cannot write (bypassing the API's validation) is
// left out of its channel's feed and of the site-wide one, logged with its id and counted; the
// jobs succeed.
func TestUnrenderableArticleIsSkippedAndCounted(t *testing.T) {
	a, srv, logs := newLoggedApp(t)
	good := storetest.Article("good", 1, "lingling")
	bad := storetest.Article("bad-date", 2, "lingling")
	bad.PublishedAt = time.Date(9999, 12, 31, 20, 0, 0, 0, time.UTC) // year 10000 in Asia/Shanghai
	bad.UpdatedAt = bad.PublishedAt
	for _, x := range []syndicate.Article{good, bad} {
		if _, err := a.Store.UpsertArticle(context.Background(), x); err != nil {
			t.Fatal(err)
		}
	}
	for _, slug := range []string{"lingling", syndicate.SiteFeed} {
		r, err := a.Scheduler.RunNow(context.Background(), app.BuildJobName(slug))
		if err != nil || r.Status != "ok" {
			t.Fatalf("build %s: %+v, %v", slug, r, err)
		}
		for _, f := range syndicate.Formats {
			resp := get(t, srv.URL+"/feeds/"+slug+"."+f)
			parsed, err := gofeed.NewParser().Parse(resp.Body)
			if err != nil {
				t.Fatalf("%s.%s: %v", slug, f, err)
			}
			if len(parsed.Items) != 1 || parsed.Items[0].GUID != a.Site.ItemID("good") {
				t.Errorf("%s.%s holds %d items, want only the good one", slug, f, len(parsed.Items))
			}
		}
	}
	body, _ := io.ReadAll(get(t, srv.URL+"/metrics").Body)
	for _, want := range []string{
		`syndicate_build_items_skipped_total{channel="lingling"} 1`,
		`syndicate_build_items_skipped_total{channel="all"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if log := logs.String(); !strings.Contains(log, "article_id=bad-date") {
		t.Errorf("the skip is not logged with the article id:\n%s", log)
	}
}
