// Package storetest is the conformance suite every store.Store adapter must pass. Adapters call
// Run from their own tests with a function that opens a fresh, empty store.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// Opener returns a new, empty store; the suite closes it.
type Opener func(t *testing.T) store.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"UpsertOutcomes", testUpsertOutcomes},
		{"DeleteArticle", testDeleteArticle},
		{"NewestItemsAcrossSubtree", testNewestItems},
		{"NewestItemsAcrossManyChannels", testNewestManyChannels},
		// NewestItems' other paths, each on its own: the walk down the newest filings of all
		// channels for any number of channels, the seeks into each channel always, and the walk
		// giving up at once and falling back to the seeks.
		{"NewestItemsByWalk", tuned(testNewest, func(t *store.Tuning) { t.ManyChannels = 1 })},
		{"NewestItemsBySeeks", tuned(testNewest, func(t *store.Tuning) { t.ManyChannels = math.MaxInt })},
		{"NewestItemsWalkGivesUp", tuned(testNewest, func(t *store.Tuning) {
			t.ManyChannels, t.WalkFloor, t.WalkPerItem = 1, 0, 1
		})},
		{"SanitizedContent", testSanitized},
		{"ArchiveSlots", testArchive},
		{"LastChange", testLastChange},
		{"ChangesAndCommitBuild", testChanges},
		// Every Changes call here reads from the channel side: lingling holds fewer filings
		// than the changes made since each build (4 < 5, then 3 < 4).
		{"ChangesByChannelScan", tuned(testChanges, func(t *store.Tuning) { t.ChannelScanThreshold = 0 })},
		{"Documents", testDocuments},
		{"Outbox", testOutbox},
		{"OutboxDeadLetters", testDeadLetters},
		{"JobStates", testJobStates},
		{"RunHistory", testRunHistory},
		{"RunRetention", testRunRetention},
		{"SourceState", testSourceState},
		{"ChannelMarks", testChannelMarks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
	t.Run("UpsertArticlesAsOneByOne", func(t *testing.T) { RunBatch(t, open) })
}

// tuned runs fn on a store whose Tuning tune changed.
func tuned(fn func(*testing.T, store.Store), tune func(*store.Tuning)) func(*testing.T, store.Store) {
	return func(t *testing.T, s store.Store) {
		tun, ok := s.(store.Tunable)
		if !ok {
			t.Fatalf("%T is not a store.Tunable: its query knobs cannot be changed", s)
		}
		tune(tun.Tune())
		fn(t, s)
	}
}

// testNewest runs every NewestItems test on one store.
func testNewest(t *testing.T, s store.Store) {
	testNewestItems(t, s)
	testNewestManyChannels(t, s)
}

var base = time.Date(2022, 11, 16, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))

// Article returns a valid article filed in channels, published n minutes after a fixed time.
func Article(id string, n int, channels ...string) syndicate.Article {
	a := syndicate.Article{
		ID: id, Title: "标题 " + id, Summary: "摘要", ContentHTML: "<p>正文 " + id + "</p>",
		Authors: []string{"彭沛"}, Channels: channels, PublishedAt: base.Add(time.Duration(n) * time.Minute),
	}
	a.Normalize()
	return a
}

func mustUpsert(t *testing.T, s store.Store, a syndicate.Article, want store.UpsertOutcome) {
	t.Helper()
	got, err := s.UpsertArticle(context.Background(), a)
	if err != nil {
		t.Fatalf("upsert %s: %v", a.ID, err)
	}
	if got != want {
		t.Fatalf("upsert %s: got %v, want %v", a.ID, got, want)
	}
}

func testUpsertOutcomes(t *testing.T, s store.Store) {
	ctx := context.Background()
	a := Article("a1", 0, "lingling")
	mustUpsert(t, s, a, store.UpsertCreated)
	mustUpsert(t, s, a, store.UpsertUnchanged)
	a.Title = "新标题"
	mustUpsert(t, s, a, store.UpsertUpdated)
	got, err := s.Article(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Title != "新标题" || !got.PublishedAt.Equal(a.PublishedAt) || !slices.Equal(got.Channels, a.Channels) {
		t.Errorf("stored article = %+v, want %+v", got, a)
	}
	if _, off := got.PublishedAt.Zone(); off != 8*3600 {
		t.Errorf("published_at zone offset = %d, want +08:00 kept", off)
	}
	n, err := s.ArticleCount(ctx)
	if err != nil || n != 1 {
		t.Errorf("ArticleCount = %d, %v; want 1", n, err)
	}
}

// testSanitized checks that the sanitised content saved with an article comes back with the
// version it was made from, and never with another: builds trust it as it is.
func testSanitized(t *testing.T, s store.Store) {
	ctx := context.Background()
	check := func(step string, wantContent string, want syndicate.Sanitized) {
		t.Helper()
		items, err := s.NewestItems(ctx, []string{"lingling"}, 10)
		if err != nil || len(items) != 1 {
			t.Fatalf("%s: NewestItems = %d items, %v", step, len(items), err)
		}
		page, err := s.ArchivePage(ctx, []string{"lingling"}, 1, 10)
		if err != nil || len(page) != 1 {
			t.Fatalf("%s: ArchivePage = %d items, %v", step, len(page), err)
		}
		for _, got := range []syndicate.Article{items[0], page[0]} {
			if got.Sanitized != want || got.ContentHTML != wantContent {
				t.Errorf("%s: content %q sanitised %+v, want %q and %+v", step, got.ContentHTML, got.Sanitized, wantContent, want)
			}
		}
	}
	a := Article("s1", 0, "lingling")
	a.ContentHTML = `<p>原文</p><script>x</script>`
	a.Sanitized = syndicate.Sanitized{Policy: "p1", HTML: "<p>原文</p>"}
	mustUpsert(t, s, a, store.UpsertCreated)
	check("created", a.ContentHTML, a.Sanitized)

	// The same article again, sanitised under a newer policy or not at all: it is unchanged, and
	// so is what the store keeps (builds sanitise content stored under an older policy).
	p1 := a.Sanitized
	a.Sanitized = syndicate.Sanitized{Policy: "p2", HTML: "<p>原文 p2</p>"}
	mustUpsert(t, s, a, store.UpsertUnchanged)
	check("stored again under a newer policy", a.ContentHTML, p1)
	b := a
	b.Sanitized = syndicate.Sanitized{}
	mustUpsert(t, s, b, store.UpsertUnchanged)
	check("stored again unsanitised", a.ContentHTML, p1)

	// A new version saved without sanitised content must not come back with the old one's.
	b.ContentHTML = "<p>改过</p>"
	mustUpsert(t, s, b, store.UpsertUpdated)
	check("edited", b.ContentHTML, syndicate.Sanitized{})

	// A build saves what it sanitised for the version it read, and nothing for another.
	items, err := s.NewestItems(ctx, []string{"lingling"}, 1)
	if err != nil || len(items) != 1 || items[0].StoredHash == "" {
		t.Fatalf("NewestItems = %v, %v", items, err)
	}
	other := "<p>原文</p>"
	stale := store.SanitizedContent{ArticleID: b.ID, Hash: a.Hash(), Policy: "p2", HTML: &other}
	if err := s.CommitBuild(ctx, store.Build{Channel: "lingling", Sanitized: []store.SanitizedContent{stale}}); err != nil {
		t.Fatal(err)
	}
	check("build sanitised an older version", b.ContentHTML, syndicate.Sanitized{})
	// Content the policy leaves as it is (HTML nil) is the article's own.
	current := store.SanitizedContent{ArticleID: b.ID, Hash: items[0].StoredHash, Policy: "p2"}
	if err := s.CommitBuild(ctx, store.Build{Channel: "lingling", Sanitized: []store.SanitizedContent{current}}); err != nil {
		t.Fatal(err)
	}
	check("build sanitised, unchanged", b.ContentHTML, syndicate.Sanitized{Policy: "p2", HTML: b.ContentHTML})
	changed := "<p>改过了</p>"
	current.Policy, current.HTML = "p3", &changed
	if err := s.CommitBuild(ctx, store.Build{Channel: "lingling", Sanitized: []store.SanitizedContent{current}}); err != nil {
		t.Fatal(err)
	}
	check("build sanitised, changed", b.ContentHTML, syndicate.Sanitized{Policy: "p3", HTML: changed})

	// Imported content the policy leaves as it is comes back as the content itself.
	b.Title, b.Sanitized = "新标题", syndicate.Sanitized{Policy: "p4", HTML: b.ContentHTML}
	mustUpsert(t, s, b, store.UpsertUpdated)
	check("imported clean content", b.ContentHTML, b.Sanitized)
}

func testDeleteArticle(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustUpsert(t, s, Article("gone", 0, "lingling"), store.UpsertCreated)
	if err := s.DeleteArticle(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Article(ctx, "gone"); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
		t.Errorf("Article after delete: err = %v, want ENOTFOUND", err)
	}
	if err := s.DeleteArticle(ctx, "gone"); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
		t.Errorf("second delete: err = %v, want ENOTFOUND", err)
	}
	items, err := s.NewestItems(ctx, []string{"lingling"}, 10)
	if err != nil || len(items) != 0 {
		t.Errorf("NewestItems after delete = %d items, %v", len(items), err)
	}
	// Storing it again brings it back as a new article.
	mustUpsert(t, s, Article("gone", 0, "lingling"), store.UpsertCreated)
}

func testNewestItems(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i := range 30 {
		ch := []string{"lingling", "qiyang", "zhengwu"}[i%3]
		mustUpsert(t, s, Article(fmt.Sprintf("n%02d", i), i, ch), store.UpsertCreated)
	}
	// Filed in two channels of the subtree: must appear once.
	mustUpsert(t, s, Article("both", 100, "lingling", "qiyang"), store.UpsertCreated)
	items, err := s.NewestItems(ctx, []string{"xianshiqu", "lingling", "qiyang"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range items {
		ids = append(ids, a.ID)
		// Builds fingerprint items by the hash saved with them instead of hashing them again.
		if a.StoredHash == "" || a.StoredHash != a.Hash() {
			t.Errorf("item %s: stored hash %q, its hash %q", a.ID, a.StoredHash, a.Hash())
		}
	}
	want := []string{"both", "n28", "n27", "n25", "n24"}
	if !slices.Equal(ids, want) {
		t.Errorf("newest 5 of subtree = %v, want %v", ids, want)
	}
	all, err := s.NewestItems(ctx, []string{"lingling", "qiyang"}, 100)
	if err != nil || len(all) != 21 {
		t.Errorf("all of subtree = %d items (%v), want 21", len(all), err)
	}
}

func kinds(cs []store.Change) map[string]store.ChangeKind {
	m := map[string]store.ChangeKind{}
	for _, c := range cs {
		m[c.Article.ID] = c.Kind
	}
	return m
}

// commit records the changes as announced, the way a build does.
func commit(t *testing.T, s store.Store, channel string, cs []store.Change, upTo int64) {
	t.Helper()
	ann := map[string]string{}
	for _, c := range cs {
		if c.Kind == store.ChangeRemoved {
			ann[c.Article.ID] = ""
		} else {
			ann[c.Article.ID] = c.Hash
		}
	}
	st := store.BuildState{LastChange: upTo, Fingerprint: fmt.Sprint(upTo), BuiltAt: base}
	if err := s.CommitBuild(context.Background(), store.Build{Channel: channel, State: st, Announced: ann}); err != nil {
		t.Fatal(err)
	}
}

func testChanges(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustUpsert(t, s, Article("stay", 0, "lingling"), store.UpsertCreated)
	mustUpsert(t, s, Article("edit", 1, "lingling"), store.UpsertCreated)
	mustUpsert(t, s, Article("move", 2, "lingling"), store.UpsertCreated)
	mustUpsert(t, s, Article("drop", 3, "lingling"), store.UpsertCreated)
	mustUpsert(t, s, Article("other", 4, "qiyang"), store.UpsertCreated)

	cs, upTo, err := changesSince(ctx, s, "lingling", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.ChangeKind{"stay": store.ChangeAdded, "edit": store.ChangeAdded, "move": store.ChangeAdded, "drop": store.ChangeAdded}
	if got := kinds(cs); !maps(got, want) {
		t.Fatalf("first changes = %v, want %v", got, want)
	}
	commit(t, s, "lingling", cs, upTo)
	if st, err := s.BuildState(ctx, "lingling"); err != nil || st.LastChange != upTo {
		t.Fatalf("BuildState = %+v, %v; want LastChange %d", st, err, upTo)
	}
	if cs, _, err := changesSince(ctx, s, "lingling", upTo); err != nil || len(cs) != 0 {
		t.Fatalf("changes after commit = %v, %v; want none", cs, err)
	}

	before := time.Now()
	e := Article("edit", 1, "lingling")
	e.Summary = "改过"
	mustUpsert(t, s, e, store.UpsertUpdated)
	mustUpsert(t, s, Article("move", 2, "qiyang"), store.UpsertUpdated)
	if err := s.DeleteArticle(ctx, "drop"); err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, Article("new", 5, "lingling", "qiyang"), store.UpsertCreated)
	mustUpsert(t, s, Article("stay", 0, "lingling"), store.UpsertUnchanged)

	cs, upTo2, err := changesSince(ctx, s, "lingling", upTo)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]store.ChangeKind{"edit": store.ChangeUpdated, "move": store.ChangeRemoved, "drop": store.ChangeRemoved, "new": store.ChangeAdded}
	if got := kinds(cs); !maps(got, want) {
		t.Fatalf("second changes = %v, want %v", got, want)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i-1].Seq >= cs[i].Seq {
			t.Errorf("changes not in change order: %d then %d", cs[i-1].Seq, cs[i].Seq)
		}
	}
	// Events carry the article's revision, when the store recorded the change, and for a removal
	// whether the article was deleted or moved out.
	type meta struct {
		revision int64
		deleted  bool
	}
	wantMeta := map[string]meta{"edit": {2, false}, "move": {2, false}, "drop": {2, true}, "new": {1, false}}
	after := time.Now()
	for _, c := range cs {
		if got := (meta{c.Revision, c.Deleted}); got != wantMeta[c.Article.ID] {
			t.Errorf("%s: revision %d, deleted %v; want %+v", c.Article.ID, c.Revision, c.Deleted, wantMeta[c.Article.ID])
		}
		// A second of slack: PostgreSQL's clock stamps the change.
		if c.At.Before(before.Add(-time.Second)) || c.At.After(after.Add(time.Second)) {
			t.Errorf("%s: changed at %v, want between %v and %v", c.Article.ID, c.At, before, after)
		}
	}
	commit(t, s, "lingling", cs, upTo2)
	// Changing an article back to a content announced earlier is still an update.
	mustUpsert(t, s, Article("edit", 1, "lingling"), store.UpsertUpdated)
	cs, _, err = changesSince(ctx, s, "lingling", upTo2)
	if got := kinds(cs); err != nil || !maps(got, map[string]store.ChangeKind{"edit": store.ChangeUpdated}) {
		t.Fatalf("revert changes = %v, %v", got, err)
	}
	if cs[0].Revision != 3 {
		t.Errorf("revert: revision %d, want 3", cs[0].Revision)
	}
}

func maps(a, b map[string]store.ChangeKind) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func testDocuments(t *testing.T, s store.Store) {
	ctx := context.Background()
	if _, err := s.Document(ctx, "lingling", "atom"); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
		t.Fatalf("missing document: err = %v, want ENOTFOUND", err)
	}
	body := []byte("<feed>零陵</feed>")
	doc := syndicate.Document{Channel: "lingling", Format: "atom", Body: body, ETag: syndicate.ETagOf(body), Modified: base.Truncate(time.Second)}
	ev := syndicate.OutboxRow{EventID: "e1", Subject: "syndicate.items.xianshiqu.lingling", Channel: "lingling", Payload: []byte(`{}`), CreatedAt: base}
	b := store.Build{Channel: "lingling", State: store.BuildState{LastChange: 1, Fingerprint: "f"}, Documents: []syndicate.Document{doc}, Events: []syndicate.OutboxRow{ev}}
	if err := s.CommitBuild(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := s.Document(ctx, "lingling", "atom")
	if err != nil || string(got.Body) != string(body) || got.ETag != doc.ETag || !got.Modified.Equal(doc.Modified) {
		t.Fatalf("Document = %+v, %v; want %+v", got, err, doc)
	}
	// A build whose outbox insert fails (duplicate event id) saves nothing: one transaction.
	body2 := []byte("<feed>changed</feed>")
	b.Documents = []syndicate.Document{{Channel: "lingling", Format: "atom", Body: body2, ETag: syndicate.ETagOf(body2), Modified: base}}
	b.State.LastChange = 2
	if err := s.CommitBuild(ctx, b); err == nil {
		t.Fatal("CommitBuild with a duplicate event id succeeded")
	}
	got, _ = s.Document(ctx, "lingling", "atom")
	st, _ := s.BuildState(ctx, "lingling")
	if string(got.Body) != string(body) || st.LastChange != 1 {
		t.Errorf("failed build left changes: body %q, last change %d", got.Body, st.LastChange)
	}
	// A compressed document is saved as its gzip bytes and read back whole, next to the
	// identity document saved above.
	rss := bytes.Repeat([]byte("<item>零陵区 疫情防控</item>"), 200)
	gz := syndicate.GzipOf(rss)
	b = store.Build{Channel: "lingling", State: store.BuildState{LastChange: 1, Fingerprint: "f"},
		Documents: []syndicate.Document{{Channel: "lingling", Format: "rss", Body: rss, Gzip: gz, ETag: syndicate.ETagOf(rss), Modified: base}}}
	if err := s.CommitBuild(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err = s.Document(ctx, "lingling", "rss")
	if err != nil || !bytes.Equal(got.Body, rss) || !bytes.Equal(got.Gzip, gz) {
		t.Fatalf("compressed Document = %d bytes (gzip %d), %v; want %d (gzip %d)", len(got.Body), len(got.Gzip), err, len(rss), len(gz))
	}
	var all []string
	err = s.Documents(ctx, func(d syndicate.Document) error {
		all = append(all, fmt.Sprintf("%s.%s %d %v", d.Channel, d.Format, len(d.Body), d.Gzip != nil))
		return nil
	})
	want := []string{fmt.Sprintf("lingling.atom %d false", len(body)), fmt.Sprintf("lingling.rss %d true", len(rss))}
	if err != nil || !slices.Equal(all, want) {
		t.Errorf("Documents = %q, %v; want %q", all, err, want)
	}
	tags := map[string]string{}
	if err := s.DocumentTags(ctx, func(channel, format, etag string) { tags[channel+"."+format] = etag }); err != nil ||
		len(tags) != 2 || tags["lingling.atom"] != doc.ETag || tags["lingling.rss"] != syndicate.ETagOf(rss) {
		t.Errorf("DocumentTags = %q, %v; want lingling.atom %s and lingling.rss %s", tags, err, doc.ETag, syndicate.ETagOf(rss))
	}
	stop := errors.New("enough")
	n := 0
	if err := s.Documents(ctx, func(syndicate.Document) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("Documents after fn failed: %d calls, %v; want 1, %v", n, err, stop)
	}
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := context.Background()
	var events []syndicate.OutboxRow
	for i := range 5 {
		events = append(events, syndicate.OutboxRow{EventID: fmt.Sprint("ev", i), Subject: "syndicate.items.zhengwu",
			Channel: "zhengwu", Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)), CreatedAt: base.Add(time.Duration(i) * time.Second)})
	}
	if err := s.CommitBuild(ctx, store.Build{Channel: "zhengwu", Events: events}); err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingEvents(ctx, 3)
	if err != nil || len(pending) != 3 {
		t.Fatalf("PendingEvents(3) = %d, %v", len(pending), err)
	}
	for i, r := range pending {
		if r.EventID != events[i].EventID || string(r.Payload) != string(events[i].Payload) || r.Subject != events[i].Subject {
			t.Errorf("pending[%d] = %+v, want %+v", i, r, events[i])
		}
	}
	n, oldest, err := s.OutboxStats(ctx)
	if err != nil || n != 5 || !oldest.Equal(base) {
		t.Errorf("OutboxStats = %d, %v, %v; want 5, %v", n, oldest, err, base)
	}
	sentAt := base.Add(time.Hour)
	if err := s.MarkSent(ctx, []int64{pending[0].Seq, pending[1].Seq}, sentAt); err != nil {
		t.Fatal(err)
	}
	rest, _ := s.PendingEvents(ctx, 10)
	if len(rest) != 3 || rest[0].EventID != "ev2" {
		t.Fatalf("after MarkSent pending = %v", rest)
	}
	if pruned, err := s.PruneSent(ctx, sentAt); err != nil || pruned != 0 {
		t.Errorf("PruneSent(before sent) = %d, %v; want 0", pruned, err)
	}
	if pruned, err := s.PruneSent(ctx, sentAt.Add(time.Second)); err != nil || pruned != 2 {
		t.Errorf("PruneSent(after sent) = %d, %v; want 2", pruned, err)
	}

	// Marks come in any order, with gaps and repeats: exactly the rows named are sent.
	events = events[:0]
	for i := 5; i < 13; i++ {
		events = append(events, syndicate.OutboxRow{EventID: fmt.Sprint("ev", i), Subject: "syndicate.items.zhengwu",
			Channel: "zhengwu", Payload: []byte(`{}`), CreatedAt: base})
	}
	if err := s.CommitBuild(ctx, store.Build{Channel: "zhengwu", Events: events}); err != nil {
		t.Fatal(err)
	}
	all, err := s.PendingEvents(ctx, 100)
	if err != nil || len(all) != 11 {
		t.Fatalf("PendingEvents = %d rows, %v; want 11", len(all), err)
	}
	seq := map[string]int64{}
	for _, r := range all {
		seq[r.EventID] = r.Seq
	}
	if err := s.MarkSent(ctx, []int64{seq["ev10"], seq["ev5"], seq["ev6"], seq["ev5"], seq["ev8"], seq["ev2"]}, sentAt); err != nil {
		t.Fatal(err)
	}
	rest, _ = s.PendingEvents(ctx, 100)
	var left []string
	for _, r := range rest {
		left = append(left, r.EventID)
	}
	if want := []string{"ev3", "ev4", "ev7", "ev9", "ev11", "ev12"}; !slices.Equal(left, want) {
		t.Errorf("pending after marking some = %v, want %v", left, want)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testJobStates(t *testing.T, s store.Store) {
	ctx := context.Background()
	states, err := s.JobStates(ctx)
	if err != nil || len(states) != 0 {
		t.Fatalf("JobStates of an empty store = %v, %v", states, err)
	}
	run := base.Add(time.Hour).Truncate(time.Microsecond)
	keep := store.Retention{Keep: 10, MaxAge: 24 * time.Hour}
	saveRun := func(id string, start time.Time, status string) {
		t.Helper()
		r := store.JobRun{ID: id, Job: "build:lingling", Trigger: "schedule", Replica: "r1", Start: start, Status: status}
		if status != store.RunRunning {
			r.End = start.Add(time.Second)
		}
		if err := s.SaveRuns(ctx, []store.JobRun{r}, keep, run); err != nil {
			t.Fatal(err)
		}
	}
	saveRun("run-2", run, store.RunRunning)
	if err := s.SaveJobSettings(ctx, "build:lingling", "@every 2s", true, base); err != nil {
		t.Fatal(err)
	}
	// An older run recorded late (by another replica) does not move the last run back, nor does
	// the end of the last one.
	saveRun("run-1", run.Add(-time.Minute), store.RunOK)
	saveRun("run-2", run, store.RunOK)
	if err := s.SaveJobSettings(ctx, "build:zhengwu", "", false, base); err != nil {
		t.Fatal(err)
	}
	states, err = s.JobStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := states["build:lingling"]
	if got.Schedule != "@every 2s" || !got.Paused || !got.LastRun.Equal(run) || !got.UpdatedAt.Equal(base) {
		t.Errorf("build:lingling state = %+v", got)
	}
	if z := states["build:zhengwu"]; z.Schedule != "" || z.Paused || !z.LastRun.IsZero() {
		t.Errorf("build:zhengwu state = %+v", z)
	}
	if err := s.SaveJobSettings(ctx, "build:lingling", "", false, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	states, _ = s.JobStates(ctx)
	if got := states["build:lingling"]; got.Schedule != "" || got.Paused || !got.LastRun.Equal(run) {
		t.Errorf("after reset: %+v (last run must be kept)", got)
	}
}

func testSourceState(t *testing.T, s store.Store) {
	ctx := context.Background()
	st, err := s.SourceState(ctx, "upstream")
	if err != nil || st.ETag != "" || st.Name != "upstream" {
		t.Fatalf("unknown source = %+v, %v", st, err)
	}
	want := store.SourceState{Name: "upstream", ETag: `"abc"`, LastModified: "Sun, 29 Nov 2026 03:00:00 GMT", CheckedAt: base}
	for range 2 { // saving twice updates in place
		if err := s.SaveSourceState(ctx, want); err != nil {
			t.Fatal(err)
		}
	}
	st, err = s.SourceState(ctx, "upstream")
	if err != nil || st.ETag != want.ETag || st.LastModified != want.LastModified || !st.CheckedAt.Equal(base) {
		t.Errorf("SourceState = %+v, %v; want %+v", st, err, want)
	}
}

// archiveIDs returns the ids on every page of the subtree's archive, size per page, until the
// first empty page.
func archiveIDs(t *testing.T, s store.Store, channels []string, size int) [][]string {
	t.Helper()
	var pages [][]string
	for page := 1; ; page++ {
		items, err := s.ArchivePage(context.Background(), channels, page, size)
		if err != nil {
			t.Fatalf("ArchivePage(%d): %v", page, err)
		}
		if len(items) == 0 {
			return pages
		}
		var ids []string
		for _, a := range items {
			ids = append(ids, a.ID)
		}
		pages = append(pages, ids)
	}
}

func wantCount(t *testing.T, s store.Store, channels []string, want int) {
	t.Helper()
	n, err := s.ArchiveCount(context.Background(), channels)
	if err != nil || n != want {
		t.Fatalf("ArchiveCount(%v) = %d, %v; want %d", channels, n, err, want)
	}
}

func wantPages(t *testing.T, s store.Store, channels []string, size int, want [][]string, why string) {
	t.Helper()
	got := archiveIDs(t, s, channels, size)
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("%s: pages %v, want %v", why, got, want)
	}
}

// testArchive checks that archive pages hold slots in filing order, not publication order, and
// that slots are never taken back or renumbered: full pages keep their items when articles are
// back-dated or edited, and deletions and moves leave a page short instead of shifting items
// between pages that readers cache as immutable.
func testArchive(t *testing.T, s store.Store) {
	ctx := context.Background()
	subtree := []string{"xianshiqu", "lingling", "qiyang"}
	// Created a00 first but published last: the archive must not follow published_at.
	for i := range 10 {
		ch := []string{[]string{"lingling", "qiyang"}[i%2]}
		if i == 3 {
			ch = []string{"lingling", "qiyang"} // in two channels of the subtree: listed and counted once
		}
		mustUpsert(t, s, Article(fmt.Sprintf("a%02d", i), 100-i, ch...), store.UpsertCreated)
	}
	mustUpsert(t, s, Article("elsewhere", 50, "zhengwu"), store.UpsertCreated)
	wantCount(t, s, subtree, 10)
	wantCount(t, s, []string{"lingling"}, 6)
	wantCount(t, s, nil, 0)
	wantPages(t, s, subtree, 4, [][]string{{"a00", "a01", "a02", "a03"}, {"a04", "a05", "a06", "a07"}, {"a08", "a09"}}, "created in order")
	wantPages(t, s, []string{"lingling"}, 4, [][]string{{"a00", "a02", "a03", "a04"}, {"a06", "a08"}}, "one channel")
	if items, err := s.ArchivePage(ctx, subtree, 1, 4); err != nil || items[1].Title != "标题 a01" || !items[1].PublishedAt.Equal(base.Add(99*time.Minute)) {
		t.Fatalf("ArchivePage items are not the stored articles: %+v, %v", items, err)
	}
	if items, err := s.ArchivePage(ctx, subtree, 1000, 50); err != nil || len(items) != 0 {
		t.Fatalf("page past the end = %d items, %v; want none", len(items), err)
	}

	// A back-dated article goes to the end: complete pages stay as they are. Edits keep an
	// article's slot, even when they change its date.
	mustUpsert(t, s, Article("old", -100000, "lingling"), store.UpsertCreated)
	edited := Article("a01", 1000, "qiyang")
	edited.Title = "改过的标题"
	mustUpsert(t, s, edited, store.UpsertUpdated)
	mustUpsert(t, s, Article("a02", 98, "lingling"), store.UpsertUnchanged)
	wantPages(t, s, subtree, 4, [][]string{{"a00", "a01", "a02", "a03"}, {"a04", "a05", "a06", "a07"}, {"a08", "a09", "old"}}, "after a back-dated article and an edit")
	wantCount(t, s, subtree, 11)
	if items, _ := s.ArchivePage(ctx, subtree, 1, 4); items[1].Title != "改过的标题" {
		t.Errorf("edited article on its page = %q, want the new title", items[1].Title)
	}

	// Moved within the subtree: filed anew in lingling, so it shows at its new slot, once; its
	// old page is one short and no item shifts. Its old slot still counts.
	mustUpsert(t, s, Article("a01", 99, "lingling"), store.UpsertUpdated)
	wantPages(t, s, subtree, 4, [][]string{{"a00", "a02", "a03"}, {"a04", "a05", "a06", "a07"}, {"a08", "a09", "old", "a01"}}, "after a move within the subtree")
	wantCount(t, s, subtree, 12)
	wantPages(t, s, []string{"qiyang"}, 4, [][]string{{"a03", "a05", "a07"}, {"a09"}}, "qiyang, after a01 left it")
	wantCount(t, s, []string{"qiyang"}, 5)

	// Deleted: its page is one short, the others keep their items and the count stays. Stored
	// again, it is a new article at a new slot.
	if err := s.DeleteArticle(ctx, "a02"); err != nil {
		t.Fatal(err)
	}
	wantCount(t, s, subtree, 12)
	wantPages(t, s, subtree, 4, [][]string{{"a00", "a03"}, {"a04", "a05", "a06", "a07"}, {"a08", "a09", "old", "a01"}}, "after a deletion")
	mustUpsert(t, s, Article("a02", 98, "qiyang"), store.UpsertCreated)
	wantPages(t, s, subtree, 4, [][]string{{"a00", "a03"}, {"a04", "a05", "a06", "a07"}, {"a08", "a09", "old", "a01"}, {"a02"}}, "after delete and re-create")
	wantCount(t, s, subtree, 13)

	// Filed out of the subtree: gone from its archive, its page short; at the end of the other
	// channel's.
	mustUpsert(t, s, Article("a05", 95, "zhengwu"), store.UpsertUpdated)
	wantCount(t, s, subtree, 13)
	wantPages(t, s, subtree, 4, [][]string{{"a00", "a03"}, {"a04", "a06", "a07"}, {"a08", "a09", "old", "a01"}, {"a02"}}, "after a move out")
	wantPages(t, s, []string{"zhengwu"}, 4, [][]string{{"elsewhere", "a05"}}, "zhengwu, with a05 moved in")
	// Back in: a new slot at the end, not its old one on a page readers may have cached without it.
	mustUpsert(t, s, Article("a05", 95, "qiyang"), store.UpsertUpdated)
	wantPages(t, s, subtree, 4, [][]string{{"a00", "a03"}, {"a04", "a06", "a07"}, {"a08", "a09", "old", "a01"}, {"a02", "a05"}}, "after a move back")
	wantCount(t, s, subtree, 14)
	// Filed in one more channel while staying in another: lingling's own archive keeps its slot.
	mustUpsert(t, s, Article("a00", 100, "lingling", "qiyang"), store.UpsertUpdated)
	wantPages(t, s, []string{"lingling"}, 4, [][]string{{"a00", "a03", "a04"}, {"a06", "a08", "old", "a01"}}, "lingling, after a00 was filed in qiyang too")
	wantPages(t, s, subtree, 4, [][]string{{"a03"}, {"a04", "a06", "a07"}, {"a08", "a09", "old", "a01"}, {"a02", "a05", "a00"}}, "the subtree shows a00 at its newest filing")

	wantCount(t, s, subtree, 15)

	// What no complete page of 4 holds: the articles shown on the slots after slot 12.
	end, err := s.ArchiveSlot(ctx, subtree, 12)
	if err != nil || end == 0 {
		t.Fatalf("ArchiveSlot(12) = %d, %v", end, err)
	}
	after := func(seq int64, except ...string) []string {
		t.Helper()
		items, err := s.ArchiveAfter(ctx, subtree, seq, except)
		if err != nil {
			t.Fatalf("ArchiveAfter(%d): %v", seq, err)
		}
		return articleIDs(items)
	}
	if got := after(end); !slices.Equal(got, []string{"a02", "a05", "a00"}) {
		t.Errorf("ArchiveAfter(slot 12) = %v, want the last page's [a02 a05 a00]", got)
	}
	if got := after(end, "a05", "no-such-article"); !slices.Equal(got, []string{"a02", "a00"}) {
		t.Errorf("ArchiveAfter(slot 12, except a05) = %v, want [a02 a00]", got)
	}
	if got, want := after(0), []string{"a03", "a04", "a06", "a07", "a08", "a09", "old", "a01", "a02", "a05", "a00"}; !slices.Equal(got, want) {
		t.Errorf("ArchiveAfter(0) = %v, want every live article in slot order %v", got, want)
	}
	if last, err := s.ArchiveSlot(ctx, subtree, 15); err != nil || last <= end || len(after(last)) != 0 {
		t.Errorf("ArchiveSlot(15) = %d, %v: want the last slot, after %d, with nothing after it", last, err, end)
	}
	for _, n := range []int{0, 16} {
		if seq, err := s.ArchiveSlot(ctx, subtree, n); err != nil || seq != 0 {
			t.Errorf("ArchiveSlot(%d) = %d, %v; want 0", n, seq, err)
		}
	}
	if got, err := s.ArchiveAfter(ctx, nil, 0, nil); err != nil || len(got) != 0 {
		t.Errorf("ArchiveAfter of no channels = %v, %v", got, err)
	}

	for _, bad := range [][2]int{{0, 4}, {1, 0}, {-1, 4}} {
		if _, err := s.ArchivePage(ctx, subtree, bad[0], bad[1]); syndicate.ErrorCode(err) != syndicate.EINVALID {
			t.Errorf("ArchivePage(page %d, size %d): err = %v, want EINVALID", bad[0], bad[1], err)
		}
	}
}

func testLastChange(t *testing.T, s store.Store) {
	ctx := context.Background()
	last := func() int64 {
		t.Helper()
		n, err := s.LastChange(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := last(); n != 0 {
		t.Fatalf("LastChange of an empty store = %d, want 0", n)
	}
	prev := int64(0)
	step := func(what string, grows bool) {
		t.Helper()
		n := last()
		if grows && n <= prev || !grows && n != prev {
			t.Errorf("after %s: LastChange %d, previously %d (should grow: %v)", what, n, prev, grows)
		}
		prev = n
	}
	a := Article("c1", 0, "lingling")
	mustUpsert(t, s, a, store.UpsertCreated)
	step("create", true)
	mustUpsert(t, s, a, store.UpsertUnchanged)
	step("unchanged upsert", false)
	a.Title = "改"
	mustUpsert(t, s, a, store.UpsertUpdated)
	step("update", true)
	if err := s.DeleteArticle(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	step("delete", true)
	if err := s.CommitBuild(ctx, store.Build{Channel: "lingling", State: store.BuildState{LastChange: prev, Fingerprint: "f"}}); err != nil {
		t.Fatal(err)
	}
	step("a build", false)
}

func testChannelMarks(t *testing.T, s store.Store) {
	ctx := context.Background()
	marks := func() map[string]store.Mark {
		t.Helper()
		m, err := s.ChannelMarks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	changed := func(since int64, channels ...string) bool {
		t.Helper()
		m := marks()
		for _, c := range channels {
			if m[c].Seq > since {
				return true
			}
		}
		return false
	}
	if changed(0, "lingling") {
		t.Error("an empty store reports a change")
	}
	mustUpsert(t, s, Article("a", 0, "lingling"), store.UpsertCreated)
	_, mark, _ := changesSince(ctx, s, "lingling", 0)
	if !changed(0, "qiyang", "lingling") || changed(mark, "lingling") || changed(0, "qiyang") {
		t.Error("creation marks exactly its channel")
	}
	if m := marks()["lingling"]; m.Filed != mark {
		t.Errorf("creation: lingling's filing mark = %d, want %d", m.Filed, mark)
	}
	mustUpsert(t, s, Article("a", 0, "lingling"), store.UpsertUnchanged)
	if changed(mark, "lingling") {
		t.Error("an unchanged upsert marked the channel")
	}
	edited := Article("a", 0, "lingling")
	edited.Summary = "更正"
	mustUpsert(t, s, edited, store.UpsertUpdated)
	if m := marks()["lingling"]; m.Seq <= mark || m.Filed != mark {
		t.Errorf("an edit in place: lingling's marks = %+v, want the change marked and the filing mark %d kept", m, mark)
	}
	mustUpsert(t, s, Article("a", 0, "qiyang"), store.UpsertUpdated) // moved
	if !changed(mark, "lingling") || !changed(mark, "qiyang") {
		t.Error("a move must mark the channel it left and the one it entered")
	}
	m := marks()
	if m["lingling"].Filed <= mark || m["qiyang"].Filed != m["qiyang"].Seq {
		t.Errorf("a move changes the filings of both channels: marks %+v", m)
	}
	_, mark, _ = changesSince(ctx, s, "qiyang", 0)
	if err := s.DeleteArticle(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if !changed(mark, "qiyang") || changed(mark, "lingling") {
		t.Error("a deletion marks exactly the channels it was in")
	}
	if m := marks()["qiyang"]; m.Filed <= mark {
		t.Errorf("a deletion changes the filings of its channel: qiyang's marks %+v", m)
	}
}

// Many channels (the site-wide feed, a large parent) may take another path through the store;
// the answer must be the same.
func testNewestManyChannels(t *testing.T, s store.Store) {
	ctx := context.Background()
	var all []string
	for c := range 40 {
		all = append(all, fmt.Sprintf("c%02d", c))
	}
	for i := range 200 {
		// Two articles share each minute, so ties are broken by id; some are in two channels.
		chans := []string{all[i%40]}
		if i%7 == 0 {
			chans = append(chans, all[(i+1)%40])
		}
		mustUpsert(t, s, Article(fmt.Sprintf("m%03d", i), i/2, chans...), store.UpsertCreated)
	}
	for _, tc := range []struct {
		channels []string
		limit    int
	}{{all, 50}, {all[5:], 30}, {all[:33], 7}, {all, 500}} {
		want := map[string]bool{}
		for _, c := range tc.channels {
			want[c] = true
		}
		var expect []string
		for i := 199; i >= 0; i-- {
			a := Article(fmt.Sprintf("m%03d", i), i/2)
			in := want[all[i%40]] || (i%7 == 0 && want[all[(i+1)%40]])
			if in {
				expect = append(expect, a.ID)
			}
		}
		// Newest first, ties by id ascending.
		slices.SortStableFunc(expect, func(x, y string) int {
			var xi, yi int
			fmt.Sscanf(x, "m%d", &xi)
			fmt.Sscanf(y, "m%d", &yi)
			if xi/2 != yi/2 {
				return yi/2 - xi/2
			}
			return strings.Compare(x, y)
		})
		expect = expect[:min(len(expect), tc.limit)]
		items, err := s.NewestItems(ctx, tc.channels, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if got := articleIDs(items); !slices.Equal(got, expect) {
			t.Errorf("%d channels, limit %d:\n got %v\nwant %v", len(tc.channels), tc.limit, got, expect)
		}
	}
	// The newest articles filed in eight of the channels each: a walk over the newest filings
	// finds them several times over, and must still return limit distinct ones.
	var expect []string
	for j := range 10 {
		mustUpsert(t, s, Article(fmt.Sprintf("x%02d", j), 1000+j, all[j:j+8]...), store.UpsertCreated)
		expect = append([]string{fmt.Sprintf("x%02d", j)}, expect...)
	}
	expect = append(expect, "m198", "m199") // the newest of the others: minute 99, ties by id
	items, err := s.NewestItems(ctx, all, 12)
	if err != nil {
		t.Fatal(err)
	}
	if got := articleIDs(items); !slices.Equal(got, expect) {
		t.Errorf("articles in many channels, limit 12:\n got %v\nwant %v", got, expect)
	}

	// A quiet subtree: 33 channels whose few articles are older than every other filing. A walk
	// down the newest filings gives up after Tuning.WalkBudget of them; the answer must not be
	// short for it.
	if tun, ok := s.(store.Tunable); ok && tun.Tune().WalkFloor > 0 {
		tun.Tune().WalkFloor = 0 // budget 40 × limit: 200 filings, of some 330
	}
	var quiet []string
	for c := range 33 {
		quiet = append(quiet, fmt.Sprintf("q%02d", c))
		mustUpsert(t, s, Article(fmt.Sprintf("q%02d", c), -100+c, quiet[c]), store.UpsertCreated)
	}
	items, err = s.NewestItems(ctx, quiet, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := articleIDs(items), []string{"q32", "q31", "q30", "q29", "q28"}; !slices.Equal(got, want) {
		t.Errorf("a quiet subtree, limit 5:\n got %v\nwant %v", got, want)
	}
}

// OlderWriter checks what happens when a replica from before migration 0009 edits an article: it
// changes the article and its hash, and leaves the sanitised content as it was. edit makes that
// change to the row of id, with the engine's own SQL. Builds must not get the previous version's
// content, and what the next build sanitises is kept for the new one.
func OlderWriter(t *testing.T, s store.Store, edit func(id, hash string, data []byte) error) {
	ctx := context.Background()
	a := Article("a1", 0, "lingling")
	a.Sanitized = syndicate.Sanitized{Policy: "p1", HTML: "<p>旧</p>"}
	mustUpsert(t, s, a, store.UpsertCreated)
	edited := a
	edited.ContentHTML, edited.Sanitized = "<p>新</p>", syndicate.Sanitized{}
	data, err := json.Marshal(edited)
	if err != nil {
		t.Fatal(err)
	}
	if err := edit(a.ID, edited.Hash(), data); err != nil {
		t.Fatal(err)
	}
	newest := func() syndicate.Article {
		t.Helper()
		items, err := s.NewestItems(ctx, []string{"lingling"}, 1)
		if err != nil || len(items) != 1 {
			t.Fatalf("NewestItems = %v, %v", items, err)
		}
		return items[0]
	}
	if got := newest(); got.ContentHTML != "<p>新</p>" || got.Sanitized != (syndicate.Sanitized{}) {
		t.Fatalf("after an older writer: content %q, sanitised %+v; want the new content and none", got.ContentHTML, got.Sanitized)
	}
	got := newest()
	if err := s.CommitBuild(ctx, store.Build{Channel: "lingling", Sanitized: []store.SanitizedContent{
		{ArticleID: got.ID, Hash: got.StoredHash, Policy: "p1"}}}); err != nil {
		t.Fatal(err)
	}
	if got, want := newest().Sanitized, (syndicate.Sanitized{Policy: "p1", HTML: "<p>新</p>"}); got != want {
		t.Errorf("after a build sanitised it: %+v, want %+v", got, want)
	}
}

// articleIDs returns the ids of items, in order.
func articleIDs(items []syndicate.Article) []string {
	ids := make([]string, 0, len(items))
	for _, a := range items {
		ids = append(ids, a.ID)
	}
	return ids
}

// testDeadLetters: a parked row leaves the pending rows (the rows after it, in its channel too,
// stay pending), is listed with its error, and a resend makes it pending again.
func testDeadLetters(t *testing.T, s store.Store) {
	ctx := context.Background()
	var events []syndicate.OutboxRow
	for i := range 4 {
		events = append(events, syndicate.OutboxRow{EventID: fmt.Sprint("dl", i), Subject: "syndicate.items.zhengwu",
			Channel: "zhengwu", Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)), CreatedAt: base.Add(time.Duration(i) * time.Second)})
	}
	if err := s.CommitBuild(ctx, store.Build{Channel: "zhengwu", Events: events}); err != nil {
		t.Fatal(err)
	}
	all, err := s.PendingEvents(ctx, 10)
	if err != nil || len(all) != 4 {
		t.Fatalf("PendingEvents = %d rows, %v", len(all), err)
	}
	at := base.Add(time.Hour)
	for _, i := range []int{0, 2} {
		if err := s.MarkDead(ctx, all[i].Seq, "message size exceeds maximum allowed", at); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := s.PendingEvents(ctx, 10)
	if err != nil || len(pending) != 2 || pending[0].EventID != "dl1" || pending[1].EventID != "dl3" {
		t.Fatalf("pending after parking dl0 and dl2 = %+v, %v", pending, err)
	}
	if n, oldest, err := s.OutboxStats(ctx); err != nil || n != 2 || !oldest.Equal(events[1].CreatedAt) {
		t.Errorf("OutboxStats = %d, %v, %v; want 2 pending from %v", n, oldest, err, events[1].CreatedAt)
	}
	dead, total, err := s.DeadLetters(ctx, 1)
	if err != nil || total != 2 || len(dead) != 1 {
		t.Fatalf("DeadLetters(1) = %+v, %d, %v; want one of 2", dead, total, err)
	}
	if none, total, err := s.DeadLetters(ctx, 0); err != nil || total != 2 || len(none) != 0 {
		t.Errorf("DeadLetters(0) = %+v, %d, %v; want the count only, 2", none, total, err)
	}
	d := dead[0]
	if d.Seq != all[0].Seq || d.EventID != "dl0" || d.Channel != "zhengwu" || d.Size != len(events[0].Payload) ||
		d.Error != "message size exceeds maximum allowed" || !d.DeadAt.Equal(at) || !d.CreatedAt.Equal(events[0].CreatedAt) {
		t.Errorf("dead letter = %+v", d)
	}
	if _, err := s.ResendDead(ctx, []int64{all[1].Seq}); syndicate.ErrorCode(err) != syndicate.ENOTFOUND {
		t.Errorf("ResendDead(a pending row) = %v, want ENOTFOUND", err)
	}
	// A seq given twice (`events resend 5 5`) is one row.
	if n, err := s.ResendDead(ctx, []int64{all[2].Seq, all[2].Seq}); err != nil || n != 1 {
		t.Errorf("ResendDead(dl2, dl2) = %d, %v; want 1", n, err)
	}
	if pending, _ := s.PendingEvents(ctx, 10); len(pending) != 3 {
		t.Errorf("pending after resending dl2 = %d rows, want 3", len(pending))
	}
	if n, err := s.ResendDead(ctx, nil); err != nil || n != 1 {
		t.Errorf("ResendDead(all) = %d, %v; want 1", n, err)
	}
	if _, total, err := s.DeadLetters(ctx, 10); err != nil || total != 0 {
		t.Errorf("dead letters after resending all: %d, %v", total, err)
	}
	// A row marked sent is never parked: the ack won.
	if err := s.MarkSent(ctx, []int64{all[3].Seq}, at); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDead(ctx, all[3].Seq, "late", at); err != nil {
		t.Fatal(err)
	}
	if _, total, _ := s.DeadLetters(ctx, 10); total != 0 {
		t.Errorf("a sent row was parked")
	}
}

// changesSince reads the store's newest change number, then the channel's changes since up to
// it, as a build does.
func changesSince(ctx context.Context, s store.Store, channel string, since int64) ([]store.Change, int64, error) {
	upTo, err := s.LastChange(ctx)
	if err != nil {
		return nil, 0, err
	}
	cs, err := s.Changes(ctx, channel, since, upTo)
	return cs, upTo, err
}
