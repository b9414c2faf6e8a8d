package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/publisher"
	"github.com/yongzhou-news/syndicate/schedule"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// replicas starts n service instances sharing one PostgreSQL schema and one NATS server.
func replicas(t *testing.T, n int, channelsYAML string) []*app.App {
	t.Helper()
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	natsURL := natstest.Start(t, "").ClientURL()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(cfgFile, []byte(channelsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	var out []*app.App
	for i := range n {
		cfg, err := config.Load(cfgFile, []string{
			"SYNDICATE_DATA_DIR=" + filepath.Join(dir, fmt.Sprint("r", i)),
			"SYNDICATE_STORE_DSN=" + dsn,
			"SYNDICATE_NATS_URL=" + natsURL,
			"SYNDICATE_HTTP_ADDR=127.0.0.1:0",
			"SYNDICATE_DEMO=false",
			"SYNDICATE_ADMIN_TOKEN=" + token,
		})
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		a, err := app.New(context.Background(), cfg, log.With("replica", i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close(context.Background()) })
		out = append(out, a)
	}
	return out
}

// runLog records every run of a job on every replica.
type runLog struct {
	mu   sync.Mutex
	runs map[int][]schedule.Run // replica → runs
}

func (l *runLog) hook(replica int, a *app.App, job string) {
	prev := a.Scheduler.Finished
	a.Scheduler.Finished = func(name string, r schedule.Run, panicked bool) {
		if prev != nil {
			prev(name, r, panicked)
		}
		if name == job && r.Trigger == "schedule" {
			l.mu.Lock()
			l.runs[replica] = append(l.runs[replica], r)
			l.mu.Unlock()
		}
	}
}

func TestReplicasRunEachTickOnce(t *testing.T) {
	as := replicas(t, 3, `
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 1s"}
defaults: {schedule: "@hourly"}
`)
	log := &runLog{runs: map[int][]schedule.Run{}}
	for i, a := range as {
		log.hook(i, a, "build:lingling")
		if _, err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for i := range 5 {
		if _, err := as[0].Store.UpsertArticle(ctx, storetest.Article(fmt.Sprint("a", i), i, "lingling")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Second)

	// Stop the replica that ran the most recent tick: the following ticks run elsewhere.
	log.mu.Lock()
	var holder int
	var newest time.Time
	for r, runs := range log.runs {
		if last := runs[len(runs)-1].Start; last.After(newest) {
			holder, newest = r, last
		}
	}
	log.mu.Unlock()
	as[holder].Close(ctx)
	stoppedAt := time.Now()
	for i := range 5 {
		if _, err := as[(holder+1)%3].Store.UpsertArticle(ctx, storetest.Article(fmt.Sprint("b", i), 10+i, "lingling")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Second)

	log.mu.Lock()
	defer log.mu.Unlock()
	seconds := map[int64]int{}
	total, afterStop := 0, 0
	for r, runs := range log.runs {
		for _, run := range runs {
			total++
			seconds[run.Start.Unix()]++
			if run.Start.After(stoppedAt) {
				afterStop++
				if r == holder {
					t.Errorf("the stopped replica %d still ran", r)
				}
			}
		}
	}
	for sec, n := range seconds {
		if n > 1 {
			t.Errorf("tick %s ran %d times across replicas", time.Unix(sec, 0).Format(time.TimeOnly), n)
		}
	}
	t.Logf("%d runs, %d after stopping replica %d, per replica %v", total, afterStop, holder, func() map[int]int {
		m := map[int]int{}
		for r, runs := range log.runs {
			m[r] = len(runs)
		}
		return m
	}())
	if total < 7 || afterStop < 3 {
		t.Errorf("%d runs in ~10 s (%d after stopping replica %d); want about one per second", total, afterStop, holder)
	}

	// Every article's event is in the stream exactly once.
	alive := as[(holder+1)%3]
	msgs := streamMessages(t, alive)
	ids := map[string]int{}
	for _, evs := range msgs {
		for _, ev := range evs {
			ids[ev.Data.ArticleID]++
		}
	}
	if len(ids) != 10 {
		t.Errorf("events for %d articles, want 10", len(ids))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("article %s announced %d times", id, n)
		}
	}
}

func TestScheduleChangeReachesEveryReplica(t *testing.T) {
	as := replicas(t, 3, `
channels:
  - {slug: lingling, title: 零陵, schedule: "@hourly"}
`)
	var addr string
	for i, a := range as {
		at, err := a.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			addr = at.String()
		}
	}
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/api/jobs/build:lingling", strings.NewReader(`{"schedule":"@every 2m"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(3 * time.Second)
	for _, a := range as[1:] {
		for {
			st, _ := a.Scheduler.Status("build:lingling")
			if st.Spec == "@every 2m" && time.Until(st.Next) <= 2*time.Minute {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica still has schedule %q, next %v", st.Spec, st.Next)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Two replicas' relays drain one PostgreSQL outbox into one stream: every event once, and each
// channel's events in the order they were written.
func TestTwoRelaysDrainOneOutbox(t *testing.T) {
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	url := natstest.Start(t, "").ClientURL()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	var outboxes []*postgres.DB
	for range 2 {
		db, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		outboxes = append(outboxes, db)
	}
	const channels, perChannel = 10, 500
	for c := range channels {
		var rows []syndicate.OutboxRow
		for i := range perChannel {
			rows = append(rows, syndicate.OutboxRow{
				EventID: fmt.Sprintf("c%d-%04d", c, i), Subject: fmt.Sprintf("syndicate.items.c%d", c), Channel: fmt.Sprint("c", c),
				Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)), CreatedAt: time.Now(),
			})
		}
		if err := outboxes[0].CommitBuild(ctx, store.Build{Channel: fmt.Sprint("c", c), Events: rows}); err != nil {
			t.Fatal(err)
		}
	}
	_, js := natstest.Connect(t, url)
	if _, err := publisher.EnsureStream(ctx, js, publisher.Options{URLs: url, Stream: "ITEMS", SubjectPrefix: "syndicate"}); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, db := range outboxes {
		_, js := natstest.Connect(t, url)
		relay := publisher.NewRelay(js, db, publisher.RelayOptions{Stream: "ITEMS", PollInterval: 50 * time.Millisecond}, log)
		wg.Add(1)
		go func() { defer wg.Done(); relay.Run(runCtx) }()
	}
	waitFor(t, "the outbox to drain", func() bool {
		n, _, err := outboxes[0].OutboxStats(ctx)
		return err == nil && n == 0
	})
	stop()
	wg.Wait()

	stream, err := js.Stream(ctx, "ITEMS")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := stream.Info(ctx)
	if info.State.Msgs != channels*perChannel {
		t.Fatalf("%d messages in the stream, want %d", info.State.Msgs, channels*perChannel)
	}
	seen := map[string]bool{}
	last := map[string]int{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		id := m.Header.Get("Nats-Msg-Id")
		if seen[id] {
			t.Fatalf("event %s stored twice", id)
		}
		seen[id] = true
		var n int
		fmt.Sscanf(string(m.Data), `{"n":%d}`, &n)
		if prev, ok := last[m.Subject]; ok && n != prev+1 {
			t.Fatalf("%s: event %d after %d", m.Subject, n, prev)
		}
		last[m.Subject] = n
	}
}
