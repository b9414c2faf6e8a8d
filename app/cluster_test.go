package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/cluster"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/internal/testwait"
	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/publisher"
	"github.com/yongzhou-news/syndicate/relay"
	"github.com/yongzhou-news/syndicate/schedule"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/store/postgres"
	"github.com/yongzhou-news/syndicate/store/postgres/postgrestest"
	"github.com/yongzhou-news/syndicate/store/storetest"
)

// replicas starts n service instances sharing one PostgreSQL schema and one NATS server.
func replicas(t *testing.T, n int, channelsYAML string) []*app.App {
	t.Helper()
	c := newReplicaSet(t, natstest.Start(t, "").ClientURL(), channelsYAML)
	var out []*app.App
	for i := range n {
		a, err := c.open(i)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// replicaSet makes service instances that share one PostgreSQL schema, NATS and configuration.
type replicaSet struct {
	t                      *testing.T
	dsn, natsURL, cfg, dir string
	env                    []string
}

func newReplicaSet(t *testing.T, natsURL, channelsYAML string, env ...string) *replicaSet {
	t.Helper()
	dsn := postgrestest.Schema(t, postgrestest.DSN(t))
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(cfgFile, []byte(channelsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return &replicaSet{t: t, dsn: dsn, natsURL: natsURL, cfg: cfgFile, dir: dir, env: env}
}

// open makes replica i (not started); it is closed when the test ends.
func (c *replicaSet) open(i int) (*app.App, error) {
	cfg, err := config.Load(c.cfg, append([]string{
		"SYNDICATE_DATA_DIR=" + filepath.Join(c.dir, fmt.Sprint("r", i)),
		"SYNDICATE_STORE_DSN=" + c.dsn,
		"SYNDICATE_NATS_URL=" + c.natsURL,
		"SYNDICATE_HTTP_ADDR=127.0.0.1:0",
		"SYNDICATE_DEMO=false",
		"SYNDICATE_ADMIN_TOKEN=" + token,
	}, c.env...))
	if err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(context.Background(), cfg, log.With("replica", i))
	if err != nil {
		return nil, err
	}
	c.t.Cleanup(func() { a.Close(context.Background()) })
	return a, nil
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
	c := newReplicaSet(t, natstest.Start(t, "").ClientURL(), `
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 1s"}
defaults: {schedule: "@hourly"}
`)
	log := &runLog{runs: map[int][]schedule.Run{}}
	var as []*app.App
	for i := range 3 {
		a, err := c.open(i)
		if err != nil {
			t.Fatal(err)
		}
		log.hook(i, a, "build:lingling")
		if _, err := a.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	ctx := context.Background()
	for i := range 5 {
		if _, err := as[0].Store.UpsertArticle(ctx, storetest.Article(fmt.Sprint("a", i), i, "lingling")); err != nil {
			t.Fatal(err)
		}
	}
	log.waitForRuns(t, 4, "before the stop")

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
	alive := as[(holder+1)%3]
	for i := range 5 {
		if _, err := alive.Store.UpsertArticle(ctx, storetest.Article(fmt.Sprint("b", i), 10+i, "lingling")); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, "three runs after the stop", func() bool { return log.since(stoppedAt) >= 3 })
	testwait.For(t, "the outbox to drain", func() bool {
		n, _, err := alive.Store.OutboxStats(ctx)
		return err == nil && n == 0
	})
	msgs := streamMessages(t, alive)
	// Closing the replicas records every run they started before the runs are compared with
	// the ticks claimed in the store.
	for _, a := range as {
		a.Close(ctx)
	}

	log.mu.Lock()
	for _, run := range log.runs[holder] {
		if run.Start.After(stoppedAt) {
			t.Errorf("the stopped replica %d still ran at %s", holder, run.Start.Format(time.TimeOnly))
		}
	}
	log.mu.Unlock()
	log.checkOncePerTick(t, c.dsn, "build:lingling")

	// Every article's event is in the stream exactly once.
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
	if err != nil {
		t.Fatalf("PUT: %v", err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	resp.Body.Close()
	for i, a := range as[1:] {
		testwait.For(t, fmt.Sprintf("@every 2m on replica %d", i+1), func() bool {
			st, _ := a.Scheduler.Status("build:lingling")
			return st.Spec == "@every 2m" && time.Until(st.Next) <= 2*time.Minute
		})
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
		rl := relay.New(js, db, relay.Options{Stream: "ITEMS", PollInterval: 50 * time.Millisecond}, log)
		wg.Add(1)
		go func() { defer wg.Done(); rl.Run(runCtx) }()
	}
	testwait.For(t, "the outbox to drain", func() bool {
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

// total counts the scheduled runs recorded on every replica.
func (l *runLog) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, runs := range l.runs {
		n += len(runs)
	}
	return n
}

// since counts the scheduled runs that started after at.
func (l *runLog) since(at time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, runs := range l.runs {
		for _, r := range runs {
			if r.Start.After(at) {
				n++
			}
		}
	}
	return n
}

// checkOncePerTick compares the recorded runs with the ticks the replicas claimed in the store
// (one row per tick, primary key (job, tick)): each run belongs to the latest claimed tick at or
// before its start, no tick has two runs, and every claimed tick ran. The replicas must be closed
// first, so that every run they started is recorded.
func (l *runLog) checkOncePerTick(t *testing.T, dsn, job string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT tick FROM job_ticks WHERE job = $1 ORDER BY tick`, job)
	ticks, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	perTick := make([]int, len(ticks))
	total := 0
	for _, runs := range l.runs {
		for _, r := range runs {
			total++
			i := sort.Search(len(ticks), func(i int) bool { return ticks[i].After(r.Start) }) - 1
			if i < 0 {
				t.Errorf("run at %s started before any claimed tick", r.Start.Format(time.StampMilli))
				continue
			}
			if perTick[i]++; perTick[i] == 2 {
				t.Errorf("tick %s ran more than once across replicas", ticks[i].Format(time.StampMilli))
			}
		}
	}
	if len(ticks) != total {
		t.Errorf("%d ticks claimed in the store, %d scheduled runs", len(ticks), total)
	}
}

func (l *runLog) waitForRuns(t *testing.T, n int, what string) {
	t.Helper()
	testwait.For(t, fmt.Sprintf("%d scheduled runs (%s)", n, what), func() bool { return l.total() >= n })
}

func apiCall(t *testing.T, method, url, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Three replicas started at the same instant on a three-node NATS cluster with a stream of three
// copies all come up, and an @every 2s build runs once per tick cluster-wide across a replica
// restart and a schedule change.
func TestReplicasStartTogetherOnNATSCluster(t *testing.T) {
	postgrestest.DSN(t) // skips before starting a cluster for nothing
	urls, _ := natstest.Cluster(t, 3)
	c := newReplicaSet(t, urls, `
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 2s"}
defaults: {schedule: "@hourly"}
`, "SYNDICATE_NATS_REPLICAS=3")
	const job = "build:lingling"
	runs := &runLog{runs: map[int][]schedule.Run{}}
	as := make([]*app.App, 3)
	addrs := make([]string, 3)
	errs := make(chan error, 3)
	gate := make(chan struct{})
	for i := range 3 {
		go func() {
			<-gate
			a, err := c.open(i)
			if err == nil {
				runs.hook(i, a, job)
				var addr net.Addr
				if addr, err = a.Start(context.Background()); err == nil {
					as[i], addrs[i] = a, addr.String()
				}
			}
			errs <- err
		}()
	}
	close(gate)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("a replica did not come up: %v", err)
		}
	}
	ctx := context.Background()
	for i := range 3 {
		if _, err := as[0].Store.UpsertArticle(ctx, storetest.Article(fmt.Sprint("a", i), i, "lingling")); err != nil {
			t.Fatal(err)
		}
	}
	runs.waitForRuns(t, 3, "three replicas")

	// A replica restarts under a new identity.
	if err := as[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	a, err := c.open(3)
	if err != nil {
		t.Fatal(err)
	}
	runs.hook(3, a, job)
	// At an odd second: robfig counted @every from the scheduler's start, so a replica started
	// then ticked on odd seconds while the others ticked on even ones, and both ran.
	testwait.For(t, "an odd second", func() bool { return time.Now().Second()%2 == 1 })
	if _, err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	as[0] = a
	runs.waitForRuns(t, runs.total()+3, "after a restart")

	// The schedule changes on one replica and reaches the others.
	if code := apiCall(t, http.MethodPut, "http://"+addrs[1]+"/api/jobs/"+job, `{"schedule":"@every 3s"}`); code != http.StatusOK {
		t.Fatalf("PUT schedule: %d", code)
	}
	for _, a := range as {
		testwait.For(t, "the new schedule on every replica", func() bool {
			st, _ := a.Scheduler.Status(job)
			return st.Spec == "@every 3s"
		})
	}
	runs.waitForRuns(t, runs.total()+3, "after a schedule change")

	// Every event once, then the replicas stop so that every run they started is recorded.
	testwait.For(t, "the outbox to drain", func() bool {
		n, _, err := as[1].Store.OutboxStats(ctx)
		return err == nil && n == 0
	})
	ids := map[string]int{}
	for _, evs := range streamMessages(t, as[1]) {
		for _, ev := range evs {
			ids[ev.Data.ArticleID]++
		}
	}
	if len(ids) != 3 {
		t.Errorf("events for %d articles, want 3", len(ids))
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("article %s announced %d times", id, n)
		}
	}
	for _, a := range as {
		a.Close(ctx)
	}
	runs.checkOncePerTick(t, c.dsn, job)
}

// A replica that died holding a job's lease blocks the job no longer than the lease TTL: the
// others run it within 10 s, and POST /run answers 409 only while the dead lease is live.
func TestFailoverAfterAReplicaDiesHoldingALease(t *testing.T) {
	as := replicas(t, 2, `
channels:
  - {slug: lingling, title: 零陵, schedule: "@every 1s"}
defaults: {schedule: "@hourly"}
`)
	const job = "build:lingling"
	runs := &runLog{runs: map[int][]schedule.Run{}}
	var addr string
	for i, a := range as {
		runs.hook(i, a, job)
		at, err := a.Start(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		addr = at.String()
	}
	runs.waitForRuns(t, 2, "before the death")
	// A replica takes the lease as a run starts and dies: nothing renews or releases it.
	leaser := as[0].Store.(store.Leaser)
	ctx := context.Background()
	var died time.Time
	testwait.For(t, "the dead replica's lease", func() bool {
		_, ok, err := leaser.AcquireLease(ctx, job, "dead-replica", time.Time{}, cluster.DefaultLeaseTTL)
		if err != nil {
			t.Fatal(err)
		}
		died = time.Now()
		return ok
	})
	if code := apiCall(t, http.MethodPost, "http://"+addr+"/api/jobs/"+job+"/run", ""); code != http.StatusConflict {
		t.Errorf("POST /run while the dead lease is live: %d, want 409", code)
	}
	var first time.Time
	testwait.For(t, "a run after the death", func() bool {
		runs.mu.Lock()
		defer runs.mu.Unlock()
		for _, rs := range runs.runs {
			for _, r := range rs {
				if r.Start.After(died) && (first.IsZero() || r.Start.Before(first)) {
					first = r.Start
				}
			}
		}
		return !first.IsZero()
	})
	after := first.Sub(died)
	t.Logf("the job ran again %v after its holder died (lease TTL %v)", after, cluster.DefaultLeaseTTL)
	if after > 10*time.Second {
		t.Errorf("failover took %v, want under 10 s", after)
	}
	if after < cluster.DefaultLeaseTTL-time.Second {
		t.Errorf("the job ran %v after the death, while the dead replica's lease was live", after)
	}
	// A manual run goes through now (a tick's run may hold the lease for a moment).
	testwait.For(t, "POST /run to succeed", func() bool {
		return apiCall(t, http.MethodPost, "http://"+addr+"/api/jobs/"+job+"/run?wait=30s", "") == http.StatusOK
	})
}
