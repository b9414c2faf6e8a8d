package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/natstest"
	"github.com/yongzhou-news/syndicate/schema"
	"github.com/yongzhou-news/syndicate/store"
)

// received is one stream message decoded with the CloudEvents SDK.
type received struct {
	subject string
	ev      cloudevents.Event
	data    syndicate.ItemData
}

// change is one store operation and the time window it ran in.
type change struct {
	article string
	from    time.Time
	to      time.Time
}

// TestWhatAnAggregatorReceives drives the service through what aggregators must be able to rely
// on, on the embedded server and on the external one: it stores the 零陵 story (in lingling and
// zhongyao-xinwen), an article filed directly in the parent channel xianshiqu, edits the story,
// moves an article from lingling to qiyang and deletes the story. Every message of the stream is
// decoded and validated with the CloudEvents SDK, and its attributes, subject, revision order and
// removal reason are checked; then real durable consumers read subtree and type filters.
func TestWhatAnAggregatorReceives(t *testing.T) {
	for server, url := range natstest.Servers(t) {
		t.Run(server, func(t *testing.T) { testAggregatorContract(t, url) })
	}
}

func testAggregatorContract(t *testing.T, url string) {
	id := strconv36()
	prefix, stream := "aggtest."+id, "AGGTEST_"+id
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	started := time.Now()
	a := newApp(t, url, stream, prefix, t.TempDir())
	var changes []change
	seeded := change{"", started, time.Now()} // the service stores its demo article at start-up
	js := a.NATS.JetStream()
	t.Cleanup(func() { js.DeleteStream(context.Background(), stream) })

	raw, err := os.ReadFile("../../demo/lingling-article.json")
	if err != nil {
		t.Fatal(err)
	}
	story, err := syndicate.DecodeArticle(raw)
	if err != nil {
		t.Fatal(err)
	}
	county := syndicate.Article{ID: "county-own", Title: "县市区要闻", Channels: []string{"xianshiqu"},
		PublishedAt: time.Date(2022, 11, 16, 9, 0, 0, 0, time.UTC)}
	mover := syndicate.Article{ID: "mover", Title: "柳子街", Channels: []string{"lingling"},
		PublishedAt: time.Date(2022, 11, 16, 10, 0, 0, 0, time.UTC)}

	if _, err := a.Store.Article(ctx, story.ID); err == nil {
		seeded.article = story.ID
		changes = append(changes, seeded)
	}
	errUnchanged := errors.New("unchanged")
	do := func(article string, op func() error) {
		t.Helper()
		from := time.Now()
		err := op()
		if errors.Is(err, errUnchanged) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		changes = append(changes, change{article, from, time.Now()})
	}
	upsert := func(art syndicate.Article) func() error {
		return func() error {
			art.Normalize()
			outcome, err := a.Store.UpsertArticle(ctx, art)
			if err == nil && outcome == store.UpsertUnchanged {
				return errUnchanged
			}
			return err
		}
	}
	buildAll := func() {
		t.Helper()
		for _, s := range a.Tree.Slugs() {
			if _, err := a.Builder.Build(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Relay.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	do(story.ID, upsert(story))
	do(county.ID, upsert(county))
	do(mover.ID, upsert(mover))
	buildAll()
	edited := story
	edited.Title += "（更新）"
	do(story.ID, upsert(edited))
	moved := mover
	moved.Channels = []string{"qiyang"}
	do(mover.ID, upsert(moved))
	buildAll()
	do(story.ID, func() error { return a.Store.DeleteArticle(ctx, story.ID) })
	buildAll()

	msgs := readAll(t, js, stream)
	want := []struct {
		typ, channel, article string
		revision              int64
		reason                string
	}{
		{syndicate.EventPublished, "lingling", story.ID, 1, ""},
		{syndicate.EventPublished, "zhongyao-xinwen", story.ID, 1, ""},
		{syndicate.EventPublished, "xianshiqu", county.ID, 1, ""},
		{syndicate.EventPublished, "lingling", mover.ID, 1, ""},
		{syndicate.EventUpdated, "lingling", story.ID, 2, ""},
		{syndicate.EventUpdated, "zhongyao-xinwen", story.ID, 2, ""},
		{syndicate.EventRemoved, "lingling", mover.ID, 2, syndicate.ReasonMoved},
		{syndicate.EventPublished, "qiyang", mover.ID, 2, ""},
		{syndicate.EventRemoved, "lingling", story.ID, 3, syndicate.ReasonDeleted},
		{syndicate.EventRemoved, "zhongyao-xinwen", story.ID, 3, syndicate.ReasonDeleted},
	}
	type key struct{ typ, channel, article string }
	got := map[key]received{}
	lastRevision := map[string]int64{} // channel/article → revision of its last event
	for _, m := range msgs {
		d := m.data
		k := key{m.ev.Type(), d.Channel, d.ArticleID}
		if _, dup := got[k]; dup && k.typ != syndicate.EventUpdated {
			t.Errorf("two %s events for %s in %s", k.typ, k.article, k.channel)
		}
		got[k] = m
		ck := d.Channel + "/" + d.ArticleID
		if d.Revision <= lastRevision[ck] {
			t.Errorf("%s: revision %d after %d: not increasing in stream order", ck, d.Revision, lastRevision[ck])
		}
		lastRevision[ck] = d.Revision

		if !strings.HasPrefix(m.ev.Type(), "cn.yongzhou-news.syndicate.item.") {
			t.Errorf("type %q lacks the reverse-DNS prefix", m.ev.Type())
		}
		if m.ev.Subject() != d.ItemID || d.ItemID != a.Site.ItemID(d.ArticleID) {
			t.Errorf("subject %q, want the item id %q", m.ev.Subject(), a.Site.ItemID(d.ArticleID))
		}
		if m.ev.DataSchema() != a.Site.BaseURL+syndicate.ItemDataSchemaPath {
			t.Errorf("dataschema %q", m.ev.DataSchema())
		}
		if want := syndicate.EventSubject(prefix, a.Tree.Path(d.Channel), m.ev.Type()); m.subject != want {
			t.Errorf("NATS subject %s, want %s", m.subject, want)
		}
		// time is when the store recorded the change: within the window of that article's
		// change number `revision`, not the later build.
		var ops []change
		for _, c := range changes {
			if c.article == d.ArticleID {
				ops = append(ops, c)
			}
		}
		if d.Revision < 1 || int(d.Revision) > len(ops) {
			t.Errorf("%s: revision %d, but the article changed %d times", ck, d.Revision, len(ops))
		} else if op := ops[d.Revision-1]; m.ev.Time().Before(op.from.Truncate(time.Microsecond)) || m.ev.Time().After(op.to) {
			t.Errorf("%s %s: time %v, want the change's time, within [%v, %v]", k.typ, ck, m.ev.Time(), op.from, op.to)
		}
	}
	if len(msgs) != len(want) {
		t.Errorf("stream holds %d events, want %d", len(msgs), len(want))
	}
	for _, w := range want {
		m, ok := got[key{w.typ, w.channel, w.article}]
		switch {
		case !ok:
			t.Errorf("no %s event for %s in %s", w.typ, w.article, w.channel)
		case m.data.Revision != w.revision || m.data.Reason != w.reason:
			t.Errorf("%s %s in %s: revision %d reason %q, want %d %q", w.typ, w.article, w.channel,
				m.data.Revision, m.data.Reason, w.revision, w.reason)
		}
	}

	// Real durable consumers, through the example's own code: a subtree filter includes the
	// parent's own items, a type filter selects across channels, and several filters (one consumer
	// on 2.10+, one per filter on 2.9) deliver the union.
	filters := []struct {
		name     string
		subjects []string
		match    func(received) bool
	}{
		{"county subtree", []string{prefix + ".items.xianshiqu.>"}, func(m received) bool { return m.data.ChannelPath[0] == "xianshiqu" }},
		{"published in the county", []string{prefix + ".items.xianshiqu.*.*.*.published"}, func(m received) bool {
			return m.data.ChannelPath[0] == "xianshiqu" && m.ev.Type() == syndicate.EventPublished
		}},
		{"all removals", []string{prefix + ".items.*.*.*.*.removed"}, func(m received) bool { return m.ev.Type() == syndicate.EventRemoved }},
		{"two filters", []string{prefix + ".items.xianshiqu.-.-.-.>", prefix + ".items.*.*.*.*.removed"}, func(m received) bool {
			return m.data.Channel == "xianshiqu" || m.ev.Type() == syndicate.EventRemoved
		}},
	}
	for i, f := range filters {
		var wantIDs []string
		for _, m := range msgs {
			if f.match(m) {
				wantIDs = append(wantIDs, m.ev.ID())
			}
		}
		var out bytes.Buffer
		evs, err := Run(ctx, a.NATS.NATS(), Options{Stream: stream, Durable: fmt.Sprintf("agg%d", i), Subjects: f.subjects, Max: len(wantIDs)}, &out)
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		var gotIDs []string
		for _, ev := range evs {
			gotIDs = append(gotIDs, ev.ID)
		}
		slices.Sort(gotIDs)
		slices.Sort(wantIDs)
		if !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("%s: consumer got %d events, want %d:\n%s", f.name, len(gotIDs), len(wantIDs), out.String())
		}
		if len(wantIDs) == 0 {
			t.Errorf("%s: the filter selects nothing; the case tests nothing", f.name)
		}
		cons, err := Consumers(ctx, js, Options{Stream: stream, Durable: fmt.Sprintf("agg%d", i), Subjects: f.subjects})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cons {
			if info, err := c.Info(ctx); err != nil || info.NumPending != 0 || info.NumAckPending != 0 {
				t.Errorf("%s: consumer left %+v, %v", f.name, info, err)
			}
		}
	}
}

// newApp starts the service on dataDir, publishing to stream on the server at url.
func newApp(t *testing.T, url, stream, prefix, dataDir string) *app.App {
	t.Helper()
	cfg, err := config.Load("", []string{"SYNDICATE_DATA_DIR=" + dataDir, "SYNDICATE_NATS_LISTEN=", "SYNDICATE_ADMIN_TOKEN=t",
		"SYNDICATE_NATS_URL=" + url, "SYNDICATE_NATS_STREAM=" + stream, "SYNDICATE_NATS_SUBJECT_PREFIX=" + prefix})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return a
}

// TestStoresResetIntoOneStream: event ids are per event, not derived from what a store counts, so
// a store wiped (or restored from an older backup) and started again, or a second fresh store,
// publishing the same changes into a kept stream within its duplicate window has all its events
// stored, none dropped as a duplicate of the first store's; and a republish of a row stays one.
func TestStoresResetIntoOneStream(t *testing.T) {
	for server, url := range natstest.Servers(t) {
		t.Run(server, func(t *testing.T) {
			id := strconv36()
			prefix, stream := "resettest."+id, "RESETTEST_"+id
			_, admin := natstest.Connect(t, url)
			t.Cleanup(func() { admin.DeleteStream(context.Background(), stream) })
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			publish := func(a *app.App) int {
				t.Helper()
				n := 0
				for _, s := range a.Tree.Slugs() {
					res, err := a.Builder.Build(ctx, s)
					if err != nil {
						t.Fatal(err)
					}
					n += res.Events
				}
				if err := a.Relay.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				return n
			}
			// The first store, then the same data dir wiped, then a second fresh store beside it.
			dir := t.TempDir()
			first := newApp(t, url, stream, prefix, dir)
			n1 := publish(first)
			first.Close(ctx)
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			wiped := newApp(t, url, stream, prefix, dir)
			n2 := publish(wiped)
			other := newApp(t, url, stream, prefix, t.TempDir())
			n3 := publish(other)
			if n1 == 0 || n1 != n2 || n2 != n3 {
				t.Fatalf("builds wrote %d, %d and %d events; want the same non-zero number each", n1, n2, n3)
			}
			msgs := readAll(t, wiped.NATS.JetStream(), stream)
			if len(msgs) != n1+n2+n3 {
				t.Errorf("stream holds %d events, want %d: events of a reset store were dropped as duplicates", len(msgs), n1+n2+n3)
			}
			if st := wiped.Relay.Stats(); st.Duplicates != 0 {
				t.Errorf("stats %+v: rows taken for duplicates", st)
			}

			// The same row published again is still a duplicate: the id is stored with the row.
			rows, err := wiped.Store.PendingEvents(ctx, 1)
			if err != nil || len(rows) != 0 {
				t.Fatalf("pending after flush: %v, %v", rows, err)
			}
			js := wiped.NATS.JetStream()
			last := msgs[len(msgs)-1]
			ack, err := js.PublishMsg(ctx, &nats.Msg{Subject: last.subject, Data: []byte("{}"),
				Header: nats.Header{nats.MsgIdHdr: {last.ev.ID()}}})
			if err != nil || !ack.Duplicate {
				t.Errorf("republish of %s: %+v, %v; want a duplicate", last.ev.ID(), ack, err)
			}
		})
	}
}

// readAll decodes every message of the stream with the CloudEvents SDK and validates it against
// the SDK's rules and Syndicate's schema.
func readAll(t *testing.T, js jetstream.JetStream, stream string) []received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []received
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		msg, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		ev := cloudevents.New()
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			t.Fatalf("message %d is not a CloudEvent: %v", seq, err)
		}
		if err := ev.Validate(); err != nil {
			t.Errorf("message %d: %v", seq, err)
		}
		if err := schema.ValidateItemEvent(msg.Data); err != nil {
			t.Errorf("message %d: %v", seq, err)
		}
		if got := msg.Header.Get(nats.MsgIdHdr); got != ev.ID() {
			t.Errorf("message %d: Nats-Msg-Id %q, id %q", seq, got, ev.ID())
		}
		if ct := msg.Header.Get("Content-Type"); ct != "application/cloudevents+json" {
			t.Errorf("message %d: Content-Type %q", seq, ct)
		}
		// The README names every header a message carries.
		for name := range msg.Header {
			switch name {
			case nats.MsgIdHdr, "Content-Type", jetstream.ExpectedStreamHeader, jetstream.ExpectedLastMsgIDHeader:
			default:
				t.Errorf("message %d: header %s is not documented", seq, name)
			}
		}
		if got := msg.Header.Get(jetstream.ExpectedStreamHeader); got != stream {
			t.Errorf("message %d: Nats-Expected-Stream %q, want %q", seq, got, stream)
		}
		var d syndicate.ItemData
		if err := ev.DataAs(&d); err != nil {
			t.Fatalf("message %d data: %v", seq, err)
		}
		out = append(out, received{subject: msg.Subject, ev: ev, data: d})
	}
	return out
}

func strconv36() string { return fmt.Sprintf("%x", rand.Uint64()) }
