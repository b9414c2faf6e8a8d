// Package store defines what Syndicate keeps: articles, the state of each channel's last build,
// rendered feed documents and the event outbox. Adapters live in sub-packages (store/sqlite, and
// store/postgres for scale-out); Open picks one by the DSN's scheme.
package store

import (
	"context"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
)

// Store is the persistence port. Methods return *syndicate.Error with ENOTFOUND when the thing
// asked for does not exist; any other error is internal.
type Store interface {
	// UpsertArticle creates or updates an article by id. An update whose content hash equals the
	// stored one changes nothing and reports UpsertUnchanged.
	UpsertArticle(ctx context.Context, a syndicate.Article) (UpsertOutcome, error)
	// UpsertArticles stores a batch in one transaction, all or nothing, with the effects of
	// UpsertArticle on each article in turn (a later write of an id sees the earlier one). It reads
	// what is stored of the whole batch at once and writes many rows per statement, for imports.
	UpsertArticles(ctx context.Context, ws []Write) ([]Upserted, error)
	// ArticleHashes returns the content hashes of those of the articles that are stored and not
	// deleted, by id: an import compares them before sanitising and writing anything.
	ArticleHashes(ctx context.Context, ids []string) (map[string]string, error)
	// DeleteArticle removes an article from every feed; its removal events are written by the
	// next build of each channel it was in. ENOTFOUND if there is no such article.
	DeleteArticle(ctx context.Context, id string) error
	// Article returns a stored, undeleted article.
	Article(ctx context.Context, id string) (syndicate.Article, error)
	// ArticleCount reports how many articles were ever stored (deleted ones included).
	ArticleCount(ctx context.Context) (int64, error)

	// NewestItems returns up to limit undeleted articles filed in any of the channels, newest
	// published first (ties by id), each once. Fewer than limit means the channels hold no more,
	// unless articles were deleted while it read, so often that reading again did not help.
	NewestItems(ctx context.Context, channels []string, limit int) ([]syndicate.Article, error)
	// ArchiveCount reports how many archive slots the channels have: an article takes a new slot
	// in a channel each time it is filed there (at creation, or when moved or added to it), and
	// slots are never taken back, so the count never goes down. Slots of one article made by one
	// change in several of the channels count once.
	ArchiveCount(ctx context.Context, channels []string) (int, error)
	// ArchivePage returns the articles on page (from 1) of the channels' archive slots, size slots
	// per page, in filing order (oldest first). A slot shows its article while the article is
	// undeleted, still filed in one of the channels, and has no later slot in them: each article
	// shows once, at its latest filing. So a page's slots never change, and deletions and moves
	// leave pages short rather than shift items to other pages; an edit, even of published_at,
	// keeps the article's slot, while a move within the channels, or deleting and storing it
	// again, shows it at a new slot at the end. A page past the end is empty. EINVALID if page or
	// size is below 1.
	ArchivePage(ctx context.Context, channels []string, page, size int) ([]syndicate.Article, error)
	// ArchiveSlot returns the change number of the channels' n-th archive slot (from 1), which
	// never changes once the slot exists; 0 if n is below 1 or past the last slot. Slots are
	// ordered by their change numbers: one change files one article.
	ArchiveSlot(ctx context.Context, channels []string, n int) (int64, error)
	// ArchiveAfter returns the articles ArchivePage would show on the channels' slots with change
	// numbers above seq, in slot order, but for those whose ids are in except (a build has them
	// already from NewestItems, and would read them twice). With seq the last slot of the last
	// complete page, it is what no complete page holds, whatever was filed since the pages were
	// counted.
	ArchiveAfter(ctx context.Context, channels []string, seq int64, except []string) ([]syndicate.Article, error)
	// LastChange returns the newest change sequence number handed out (0 in an empty store). It
	// grows with every article creation, update and deletion, so a cache of anything read from
	// articles stays valid while it stays the same.
	LastChange(ctx context.Context) (int64, error)
	// BuildState returns the channel's last committed build (zero value if never built).
	BuildState(ctx context.Context, channel string) (BuildState, error)
	// Changes returns what happened to the articles filed directly in channel by the changes
	// numbered after since up to upTo, a number LastChange returned: added, changed, deleted or
	// moved out. An article changed again after upTo is left to the call that reads past it.
	Changes(ctx context.Context, channel string, since, upTo int64) ([]Change, error)
	// ChannelMarks returns, per channel, the newest change number that touched it (an article
	// filed in, changed in, or removed from it) and the newest that changed what is filed there
	// (an article filed in or removed from it). Builds use them to skip clean subtrees and to
	// keep archive counts while only contents change.
	ChannelMarks(ctx context.Context) (map[string]Mark, error)
	// CommitBuild saves the build's documents, its outbox rows and the new build state in one
	// transaction. A document with Gzip is saved compressed only: its Body is not written.
	CommitBuild(ctx context.Context, b Build) error

	// Document returns one saved feed document: Body always, and Gzip when it was saved
	// compressed (Body then comes from inflating it).
	Document(ctx context.Context, channel, format string) (syndicate.Document, error)
	// Documents calls fn with every saved feed document, one at a time so that loading them
	// never holds all their bodies at once, and stops at fn's first error, which it returns.
	Documents(ctx context.Context, fn func(syndicate.Document) error) error
	// DocumentTags calls fn with the channel, format and ETag of every saved document, without
	// reading a body: replicas compare them with what they serve (cluster.Reconcile).
	DocumentTags(ctx context.Context, fn func(channel, format, etag string)) error

	// PendingEvents returns up to limit unsent outbox rows in Seq order.
	PendingEvents(ctx context.Context, limit int) ([]syndicate.OutboxRow, error)
	// MarkSent records that JetStream acknowledged the rows.
	MarkSent(ctx context.Context, seqs []int64, at time.Time) error
	// PruneSent deletes rows sent before the given time and returns how many it deleted.
	PruneSent(ctx context.Context, before time.Time) (int64, error)
	// OutboxStats reports the number of unsent rows and the creation time of the oldest; rows
	// parked as dead letters are not pending.
	OutboxStats(ctx context.Context) (pending int64, oldest time.Time, err error)
	// MarkDead parks a row the NATS server refused for good, with the error: PendingEvents
	// returns it no more, so the rows after it flow on.
	MarkDead(ctx context.Context, seq int64, reason string, at time.Time) error
	// DeadLetters returns up to limit parked rows in Seq order, and how many there are in all;
	// with a limit below 1, only how many.
	DeadLetters(ctx context.Context, limit int) ([]syndicate.DeadLetter, int64, error)
	// ResendDead makes parked rows pending again (all of them when seqs is nil) and returns how
	// many. ENOTFOUND when seqs names a row that is not parked.
	ResendDead(ctx context.Context, seqs []int64) (int64, error)

	// JobStates returns the saved state of every job that has one, by job name.
	JobStates(ctx context.Context) (map[string]JobState, error)
	// SaveJobSettings records an operator's schedule (empty: the configured one) and pause state.
	SaveJobSettings(ctx context.Context, name, schedule string, paused bool, at time.Time) error
	RunHistory

	// SourceState returns an upstream source's saved validators (zero value if none).
	SourceState(ctx context.Context, name string) (SourceState, error)
	// SaveSourceState records an upstream source's validators after a successful poll.
	SaveSourceState(ctx context.Context, st SourceState) error

	// Queue is the durable queue of WebSub notifications (queue.go).
	Queue
	// Subscriptions are the built-in WebSub hub's subscribers (subscriptions.go).
	Subscriptions

	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// JobState is what survives restarts of a job: an operator's changes, which win over the
// configuration, and the start of the last run, which start-up catch-up compares with the schedule.
type JobState struct {
	Name      string
	Schedule  string // "" means the configured schedule
	Paused    bool
	LastRun   time.Time // zero if it never ran
	UpdatedAt time.Time // when an operator last changed the settings
}

// SourceState is what a conditional GET of an upstream feed needs from the previous poll.
type SourceState struct {
	Name         string
	ETag         string
	LastModified string
	CheckedAt    time.Time
}

// UpsertOutcome says what an upsert did.
type UpsertOutcome int

const (
	UpsertCreated UpsertOutcome = iota + 1
	UpsertUpdated
	UpsertUnchanged
)

func (o UpsertOutcome) String() string {
	switch o {
	case UpsertCreated:
		return "created"
	case UpsertUpdated:
		return "updated"
	case UpsertUnchanged:
		return "unchanged"
	}
	return "unknown"
}

// BuildState is what a channel's last committed build saw.
type BuildState struct {
	LastChange  int64     // the newest article change sequence number the build considered
	Fingerprint string    // digest of the build's inputs; equal fingerprints render equal bytes
	BuiltAt     time.Time // when the documents last changed
}

// ChangeKind classifies one article change as seen by one channel.
type ChangeKind int

const (
	ChangeAdded   ChangeKind = iota + 1 // filed in the channel, never announced there
	ChangeUpdated                       // announced before with another content hash
	ChangeRemoved                       // announced before, now deleted or moved out
)

// Change is one article change that a channel's build must announce.
type Change struct {
	Kind    ChangeKind
	Seq     int64             // the article's change sequence number
	Hash    string            // the article's content hash at that change
	Article syndicate.Article // for ChangeRemoved: the last stored version
	// Revision counts the article's changes: 1 when created, plus one for every update and
	// deletion. Events carry it as data.revision.
	Revision int64
	// At is when the store recorded the change (zero for changes stored before it kept the time).
	At time.Time
	// Deleted tells, for ChangeRemoved, a deleted article from one moved out of the channel.
	Deleted bool
}

// Build is the result of one channel build, committed atomically.
type Build struct {
	Channel   string
	State     BuildState
	Documents []syndicate.Document // nil when the feed bytes did not change
	Events    []syndicate.OutboxRow
	// Announced records, per article id, the content hash now announced in the channel;
	// an empty hash means the article left the channel.
	Announced map[string]string
	// Sanitized is content the build had to sanitise, sorted by article id, for the articles'
	// later builds. A row another transaction holds is skipped: it gets sanitised again.
	Sanitized []SanitizedContent
}

// Tuning holds the cost knobs of a store's queries: fields of each store, not package globals,
// so that a test lowering one changes only its own store.
type Tuning struct {
	// ChannelScanThreshold is how many changes behind a channel's last build may be before
	// Changes counts the channel's filings, to read them rather than every change since when
	// they are fewer. Below it the walk of the changes is cheaper than the count. Tests lower
	// it to cover both reads.
	ChannelScanThreshold int64
	// ManyChannels is from how many channels on NewestItems walks the newest filings of all
	// channels instead of seeking into each: the site-wide feed, or a parent of many channels.
	ManyChannels int
	// WalkFloor and WalkPerItem bound that walk: after WalkBudget filings it seeks into each
	// channel instead. The walk is cheapest when the channels hold a good share of all filings,
	// as the site-wide feed's do; for a quiet subtree it would otherwise read the whole index.
	// Tests lower them to reach the seeks on small stores.
	WalkFloor, WalkPerItem int
}

// WalkBudget is how many of the newest filings of all channels NewestItems walks for limit items
// before it seeks into each channel instead.
func (t Tuning) WalkBudget(limit int) int { return max(t.WalkFloor, t.WalkPerItem*limit) }

// DefaultTuning is what Open gives a store.
func DefaultTuning() Tuning {
	return Tuning{ChannelScanThreshold: 64, ManyChannels: 32, WalkFloor: 10_000, WalkPerItem: 40}
}

// Tunable is a store whose Tuning can be changed (tests do).
type Tunable interface {
	Tune() *Tuning
}
