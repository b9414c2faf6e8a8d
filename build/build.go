// Package build turns a channel's stored articles into its feed documents and events. One Build
// call is one run of the channel's cron job: it reads the newest items of the channel's subtree,
// renders every format, and commits the documents, the outbox rows for what changed directly in
// the channel, and the new build state in one store transaction. Archive renders the channel's
// RFC 5005 archive pages, on demand rather than in builds: a channel may have thousands.
package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/feed"
	"github.com/yongzhou-news/syndicate/sanitize"
	"github.com/yongzhou-news/syndicate/schedule"
	"github.com/yongzhou-news/syndicate/store"
)

// Version changes whenever rendering changes, so that every channel is rebuilt once after an
// upgrade even though its articles did not change.
const Version = "2" // 2: RFC 5005 prev-archive links and JSON Feed next_url

// Builder builds channels. Its fields must be set before the first Build.
type Builder struct {
	Store         Store
	Site          syndicate.Site
	Tree          *syndicate.Tree
	SubjectPrefix string   // NATS subject prefix, e.g. "syndicate"
	Hubs          []string // WebSub hubs advertised in feeds
	Stylesheets   bool     // add <?xml-stylesheet?> to RSS and Atom
	// SiteSchedule and SiteLimit describe the site-wide feed (syndicate.SiteFeed).
	SiteSchedule string
	SiteLimit    int
	// Committed, when set, is called after a build committed new documents or events.
	Committed func(r Result)
	// Skipped, when set, is called for every item a build left out of the documents it
	// rendered because the item cannot be rendered (see skip.go).
	Skipped func(s Skip)
	// Now is the clock; tests replace it.
	Now func() time.Time
	// Concurrency bounds the builds that read and render at once (0: four times GOMAXPROCS). A
	// tick starts every channel's job together; beyond the quick check that a channel is clean,
	// they take turns, so a tick of a thousand channels that all changed neither runs a thousand
	// renders side by side nor holds their documents in memory at once. Four times the CPUs,
	// because much of a build's turn waits for its reads and its commit, and on SQLite commits
	// waiting together are committed together: with fewer turns the CPUs idle while builds wait,
	// with more they contend. It keeps the 1,000-topic hub benchmark's builds within a second of
	// the tick on two CPUs, which its 2 s target needs (bench/notes.md has the measurements).
	Concurrency int

	init    sync.Once
	slots   chan struct{}
	changes changeReads

	mu      sync.Mutex
	built   map[string]built      // slug → its last complete build in this process
	counts  map[string]count      // slug → its archive count and the end of its complete pages
	marks   map[string]store.Mark // store.ChannelMarks as of change number marksAt
	marksAt int64
	// titlesSum is the digest of titlesOf's titles.
	titlesOf  *syndicate.Tree
	titlesSum string
}

// built is what a process remembers of a channel's last complete build: enough to tell from the
// channel marks alone that nothing needs doing, without reading its build state.
type built struct {
	config     string // configuration fingerprint
	lastChange int64  // the store's LastChange the build saw
}

// count is what a build keeps of a feed's archive: the count of its subtree's slots, the newest
// filing change it includes, and the change number of the last slot of the last complete page.
type count struct {
	channels []string
	filed    int64
	n        int
	end      int64
}

// Result reports what one build did.
type Result struct {
	Channel   string
	Items     int  // items in the feed documents
	Rendered  bool // documents changed and were saved
	Events    int  // outbox rows written
	Documents []syndicate.Document
	Skipped   []Skip // items left out of the rendered documents
}

// StylesheetPath returns the path, under the site, of the XSL that shows format in a browser.
func StylesheetPath(format string) string { return "/xsl/" + format + ".xsl" }

// stylesheets maps the XML formats to their stylesheets' URLs, for feed.Input.Stylesheet.
func stylesheets(site syndicate.Site) map[string]string {
	m := map[string]string{}
	for _, f := range []string{syndicate.FormatRSS, syndicate.FormatAtom} {
		m[f] = site.BaseURL + StylesheetPath(f)
	}
	return m
}

// Build runs one build of the channel slug.
func (b *Builder) Build(ctx context.Context, slug string) (Result, error) {
	res := Result{Channel: slug}
	ch, ok := b.channel(slug)
	if !ok {
		return res, syndicate.Errorf(syndicate.ENOTFOUND, "unknown channel %q", slug)
	}
	now := b.now()
	spec, err := schedule.ParseSpec(ch.Schedule, b.Site.Timezone)
	if err != nil {
		return res, fmt.Errorf("build %s: %w", slug, err)
	}
	subtree := feedChannels(b.Tree, slug)
	in := feed.Input{Site: b.Site, Tree: b.Tree, Channel: ch, TTL: spec.Interval(now).Round(time.Minute), Hubs: b.Hubs}
	if b.Stylesheets {
		in.Stylesheet = stylesheets(b.Site)
	}
	cfp := b.configFingerprint(in)
	b.init.Do(b.setup)
	marks, last, err := b.channelMarks(ctx)
	if err != nil {
		return res, fmt.Errorf("build %s: %w", slug, err)
	}
	// A channel this process built with this very configuration needs nothing while no article
	// in its subtree changed since: the marks, shared by every job of a tick, tell, and no query
	// of its own is needed. This is what keeps a tick of a thousand mostly idle channels cheap.
	// Another replica may have built it since; that only moves the store's state further ahead.
	if last, ok := b.clean(slug); ok && last.config == cfp {
		changed := false
		for _, c := range subtree {
			changed = changed || marks[c].Seq > last.lastChange
		}
		if !changed {
			return res, nil
		}
	}
	select {
	case b.slots <- struct{}{}:
		defer func() { <-b.slots }()
	case <-ctx.Done():
		return res, fmt.Errorf("build %s: waiting for a turn: %w", slug, ctx.Err())
	}
	state, err := b.Store.BuildState(ctx, slug)
	if err != nil {
		return res, fmt.Errorf("build %s: %w", slug, err)
	}
	// The build covers the changes up to the newest number the tick read with the marks; one
	// committed since is in the items read below, and its event comes from the next build, whose
	// marks show it. Another replica may have built past that number: nothing more to read then.
	upTo := max(last, state.LastChange)
	var changes []store.Change
	if slug != syndicate.SiteFeed && upTo > state.LastChange {
		if changes, err = b.Store.Changes(ctx, slug, state.LastChange, upTo); err != nil {
			return res, fmt.Errorf("build %s: %w", slug, err)
		}
	}
	// The feed links to the newest complete archive page, so completing a page changes the
	// fingerprint and the documents.
	n, end, err := b.archive(ctx, slug, subtree, marks)
	if err != nil {
		return res, fmt.Errorf("build %s: %w", slug, err)
	}
	items, err := b.feedItems(ctx, subtree, ch.Limit, end)
	if err != nil {
		return res, fmt.Errorf("build %s: %w", slug, err)
	}
	items, skips := renderableItems(slug, items, b.Site.Timezone)
	res.Items = len(items)

	in.Items, in.Archive = items, feed.Archive{Pages: feed.CompletePages(n)}
	fp := fingerprint(cfp, in)
	if fp == state.Fingerprint && len(changes) == 0 {
		if upTo > state.LastChange {
			// Nothing to say, but remember how far we looked so the next build reads less.
			state.LastChange = upTo
			if err := b.Store.CommitBuild(ctx, store.Build{Channel: slug, State: state}); err != nil {
				return res, fmt.Errorf("build %s: %w", slug, err)
			}
		}
		b.setClean(slug, built{cfp, state.LastChange})
		return res, nil
	}

	next := store.Build{Channel: slug, State: store.BuildState{LastChange: upTo, Fingerprint: fp, BuiltAt: state.BuiltAt}}
	if fp != state.Fingerprint {
		next.Sanitized = sanitizeItems(items)
		in.Updated = newestUpdate(items, now)
		docs, kept, more, err := renderTolerant(in, now)
		if err != nil {
			return res, fmt.Errorf("build %s: %w", slug, err)
		}
		res.Items, res.Skipped = len(kept), append(skips, more...)
		next.Documents = docs
		next.State.BuiltAt = now
		res.Rendered, res.Documents = true, docs
	}
	var unsent []Skip
	next.Events, next.Announced, unsent = b.events(slug, changes, now)
	res.Skipped = append(res.Skipped, unsent...)
	if err := b.Store.CommitBuild(ctx, next); err != nil {
		return res, fmt.Errorf("build %s: %w", slug, err)
	}
	res.Events = len(next.Events)
	b.setClean(slug, built{cfp, upTo})
	// Reported once the documents without them are saved, and only by builds that render:
	// an unchanged feed is not counted again on every tick.
	if b.Skipped != nil {
		for _, sk := range res.Skipped {
			b.Skipped(sk)
		}
	}
	if b.Committed != nil {
		b.Committed(res)
	}
	return res, nil
}

func (b *Builder) setup() {
	n := b.Concurrency
	if n <= 0 {
		n = 4 * runtime.GOMAXPROCS(0)
	}
	b.slots = make(chan struct{}, n)
	b.changes.read = b.Store.LastChange
}

// channelMarks returns the store's channel marks and its newest change number, last. The marks
// are reread only when last moved: the thousand jobs of an idle tick share one read.
func (b *Builder) channelMarks(ctx context.Context) (map[string]store.Mark, int64, error) {
	last, err := b.changes.get(ctx)
	if err != nil {
		return nil, 0, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.marks != nil && b.marksAt == last {
		return b.marks, last, nil
	}
	// Read after last: the marks hold at least every change up to it.
	marks, err := b.Store.ChannelMarks(ctx)
	if err != nil {
		return nil, 0, err
	}
	b.marks, b.marksAt = marks, last
	return marks, last, nil
}

// archive returns how many slots the subtree's archive has, and the change number of the last
// slot of its last complete page (0 when none is complete), after which feedItems reads.
//
// Counting means reading the filings of every channel in the subtree (for the site-wide feed, of
// every article), so the count is kept while no article was filed in or removed from the
// subtree: edits, the common change, leave it as it is. Finding the end reads every slot before
// it; slots never change, so the end is kept while the page count is, and a recount that
// completes no page does not look for it again.
func (b *Builder) archive(ctx context.Context, slug string, subtree []string, marks map[string]store.Mark) (int, int64, error) {
	var filed int64
	for _, c := range subtree {
		filed = max(filed, marks[c].Filed)
	}
	b.mu.Lock()
	c, ok := b.counts[slug]
	b.mu.Unlock()
	ok = ok && slices.Equal(c.channels, subtree)
	if ok && c.filed == filed {
		return c.n, c.end, nil
	}
	// Counted after the marks were read, so the count is at least as new as filed says.
	n, err := b.Store.ArchiveCount(ctx, subtree)
	if err != nil {
		return 0, 0, err
	}
	pages, end := feed.CompletePages(n), c.end
	switch {
	case pages == 0:
		end = 0
	case !ok || pages != feed.CompletePages(c.n):
		if end, err = b.Store.ArchiveSlot(ctx, subtree, pages*feed.ArchivePageSize); err != nil {
			return 0, 0, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.counts == nil {
		b.counts = map[string]count{}
	}
	b.counts[slug] = count{channels: slices.Clone(subtree), filed: filed, n: n, end: end}
	return n, end, nil
}

// clean returns the channel's last complete build in this process: after a restart or a
// configuration change, a build reads everything once.
func (b *Builder) clean(slug string) (built, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, ok := b.built[slug]
	return c, ok
}

func (b *Builder) setClean(slug string, c built) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.built == nil {
		b.built = map[string]built{}
	}
	b.built[slug] = c
}

// channel returns the channel a slug names, or the site-wide feed's pseudo-channel.
func (b *Builder) channel(slug string) (syndicate.Channel, bool) {
	if slug == syndicate.SiteFeed {
		ch := siteChannel(b.Site)
		ch.Schedule, ch.Limit = b.SiteSchedule, b.SiteLimit
		return ch, b.SiteSchedule != "" && b.SiteLimit > 0
	}
	return b.Tree.Channel(slug)
}

// siteChannel is the site-wide feed's pseudo-channel, without schedule and limit.
func siteChannel(site syndicate.Site) syndicate.Channel {
	return syndicate.Channel{Slug: syndicate.SiteFeed, Title: site.Title, Description: site.Description}
}

// feedChannels returns the channels whose articles slug's feed holds.
func feedChannels(tree *syndicate.Tree, slug string) []string {
	if slug == syndicate.SiteFeed {
		return tree.Slugs()
	}
	return tree.Subtree(slug)
}

func (b *Builder) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// events turns the channel's changes into outbox rows and the new announced state.
//
// A change whose event cannot be encoded (a date the JSON encoder refuses, stored before
// validation existed or by hand) gets no event and is reported as skipped, like the item the
// feeds leave out: one such article must not hold back its channel's other events and feeds.
func (b *Builder) events(slug string, changes []store.Change, now time.Time) ([]syndicate.OutboxRow, map[string]string, []Skip) {
	path := b.Tree.Path(slug)
	rows := make([]syndicate.OutboxRow, 0, len(changes))
	announced := make(map[string]string, len(changes))
	var skips []Skip
	for _, c := range changes {
		// The event says what the feed item says (feed.ForEvent), not the text as typed.
		ic := syndicate.ItemChange{Type: syndicate.EventPublished, Article: feed.ForEvent(b.Site, &c.Article), Revision: c.Revision, At: c.At}
		hash := c.Hash
		switch c.Kind {
		case store.ChangeUpdated:
			ic.Type = syndicate.EventUpdated
		case store.ChangeRemoved:
			ic.Type, hash, ic.Reason = syndicate.EventRemoved, "", syndicate.ReasonMoved
			if c.Deleted {
				ic.Reason = syndicate.ReasonDeleted
			}
		}
		if ic.At.IsZero() {
			ic.At = now // stored before the store kept change times
		}
		ev := syndicate.NewItemEvent(b.Site, b.Tree, slug, ic)
		row, err := syndicate.OutboxRowFor(ev, syndicate.EventSubject(b.SubjectPrefix, path, ic.Type), now)
		if err != nil {
			skips = append(skips, Skip{Channel: slug, ArticleID: c.Article.ID, Err: fmt.Errorf("event: %w", err)})
			continue
		}
		rows = append(rows, row)
		announced[c.Article.ID] = hash
	}
	return rows, announced, skips
}

func render(in feed.Input, now time.Time) ([]syndicate.Document, error) {
	bodies, err := feed.RenderAll(in)
	if err != nil {
		return nil, err
	}
	modified := now.UTC().Truncate(time.Second)
	docs := make([]syndicate.Document, 0, len(syndicate.Formats))
	for _, f := range syndicate.Formats {
		body, ok := bodies[f]
		if !ok {
			return nil, fmt.Errorf("renderer returned no %s document", f)
		}
		docs = append(docs, syndicate.Document{Channel: in.Channel.Slug, Format: f, Body: body, Gzip: syndicate.GzipOf(body),
			ETag: syndicate.ETagOf(body), Modified: modified})
	}
	return docs, nil
}

// sanitizeItems gives every item content sanitised under the current policy, and returns what
// it had to make so that the build saves it: articles are imported sanitised, but those stored
// by an older version, or before the policy changed, are not, and would otherwise be sanitised
// again by every build.
func sanitizeItems(items []syndicate.Article) []store.SanitizedContent {
	var made []store.SanitizedContent
	for i := range items {
		a := &items[i]
		if a.Sanitized.Policy == sanitize.Policy {
			continue
		}
		a.Sanitized = sanitize.HTML(a.ContentHTML)
		if a.StoredHash != "" {
			made = append(made, store.SanitizedContent{ArticleID: a.ID, Hash: a.StoredHash, Policy: a.Sanitized.Policy,
				HTML: store.SanitizedHTML(a.ContentHTML, a.Sanitized)})
		}
	}
	slices.SortFunc(made, func(x, y store.SanitizedContent) int { return strings.Compare(x.ArticleID, y.ArticleID) })
	return made
}

// newestUpdate is the feed's own updated time: the newest item change, so that rebuilding the
// same items renders the same bytes. An empty feed uses the build time.
func newestUpdate(items []syndicate.Article, now time.Time) time.Time {
	var t time.Time
	for _, a := range items {
		if a.UpdatedAt.After(t) {
			t = a.UpdatedAt
		}
	}
	if t.IsZero() {
		return now
	}
	return t
}

// configFingerprint digests everything the documents are rendered from except the stored
// articles: the site, the channel, the tree's titles, the schedule's TTL, hubs and stylesheets,
// and the HTML policy, so that a stricter one reaches documents whose items did not change.
func (b *Builder) configFingerprint(in feed.Input) string {
	return digest(struct {
		Version    string
		Site       syndicate.Site
		Channel    syndicate.Channel
		Path       []string
		TTL        time.Duration
		Hubs       []string
		Stylesheet map[string]string
		Titles     string
		Policy     string
	}{Version, in.Site, in.Channel, in.Tree.Path(in.Channel.Slug), in.TTL, in.Hubs, in.Stylesheet, b.titles(in.Tree), sanitize.Policy})
}

// titles digests the titles of the whole tree, once per tree: items are categorised by the titles
// of their channels, so every title counts, and a tick would otherwise hash the tree once per job.
func (b *Builder) titles(tree *syndicate.Tree) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.titlesOf == tree {
		return b.titlesSum
	}
	var titles []string
	for _, s := range tree.Slugs() {
		c, _ := tree.Channel(s)
		titles = append(titles, s+"="+c.Title+">"+c.Parent)
	}
	b.titlesOf, b.titlesSum = tree, digest(titles)
	return b.titlesSum
}

// fingerprint digests everything the documents are rendered from. Equal fingerprints mean the
// saved documents are still right, and nothing is rendered or written.
func fingerprint(config string, in feed.Input) string {
	hashes := make([]string, len(in.Items))
	for i := range in.Items {
		a := &in.Items[i]
		h := a.StoredHash
		if h == "" {
			h = a.Hash()
		}
		hashes[i] = a.ID + "=" + h
	}
	return digest(struct {
		Config  string
		Archive feed.Archive
		Items   []string
	}{config, in.Archive, hashes})
}

func digest(v any) string {
	h := sha256.New()
	// Encoding a struct of plain values cannot fail.
	_ = json.NewEncoder(h).Encode(v)
	return hex.EncodeToString(h.Sum(nil)[:16])
}
