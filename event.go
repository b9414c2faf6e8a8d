package syndicate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Event types, CloudEvents `type` attribute values: reverse-DNS names (CloudEvents 1.0 §3.1.1
// recommends a prefix naming the organisation) ending in the token that closes the event's subject.
// An additive change of the event keeps the type; a breaking one gets a new type (a ".v2" suffix)
// and a new dataschema.
const (
	EventTypePrefix = "cn.yongzhou-news.syndicate.item."
	EventPublished  = EventTypePrefix + "published"
	EventUpdated    = EventTypePrefix + "updated"
	EventRemoved    = EventTypePrefix + "removed"
)

// Reasons of a removal (data.reason of EventRemoved).
const (
	ReasonDeleted = "deleted" // the article was deleted
	ReasonMoved   = "moved"   // the article is no longer filed in the channel
)

// MaxChannelDepth is the deepest a channel may sit in the tree (a root channel is at depth 1).
// Event subjects pad the channel path to this many tokens (see EventSubject), so it cannot grow
// without changing every subject: NewTree refuses deeper trees.
const MaxChannelDepth = 4

// SubjectPad fills the channel path of an event subject up to MaxChannelDepth tokens. No slug can
// be "-" (slugs start with a letter or digit), so the pad never matches a channel.
const SubjectPad = "-"

// ItemDataSchemaPath is where the service serves the JSON Schema of data (the event's dataschema).
const ItemDataSchemaPath = "/schema/item-data/v1.json"

// EventSubject is the NATS subject of an event of type typ about an item of the channel at path:
// prefix.items.<path, padded with SubjectPad to MaxChannelDepth tokens>.<type token>, e.g.
// syndicate.items.xianshiqu.lingling.-.-.published. So prefix.items.xianshiqu.> is the channel
// and everything below it, and prefix.items.xianshiqu.*.*.*.published its published events only:
// one filter subject each, which a nats-server 2.9 consumer accepts.
func EventSubject(prefix string, path []string, typ string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(".items")
	for i := range MaxChannelDepth {
		b.WriteByte('.')
		if i < len(path) {
			b.WriteString(path[i])
		} else {
			b.WriteString(SubjectPad)
		}
	}
	b.WriteByte('.')
	b.WriteString(strings.TrimPrefix(typ, EventTypePrefix))
	return b.String()
}

// SubtreeFilter is the subject filter of every event of the channel at path and its descendants.
func SubtreeFilter(prefix string, path []string) string {
	return prefix + ".items." + strings.Join(path, ".") + ".>"
}

// CloudEvent is the structured-mode CloudEvents 1.0 envelope of every event on NATS.
type CloudEvent struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	DataSchema      string    `json:"dataschema,omitempty"`
	Data            ItemData  `json:"data"`
}

// ItemData is the `data` of an item event; schema/item-data.schema.json describes it. Consumers
// must ignore fields they do not know: new fields are added without changing the type.
type ItemData struct {
	Channel     string            `json:"channel"`
	ChannelPath []string          `json:"channel_path"`
	ArticleID   string            `json:"article_id"`
	ItemID      string            `json:"item_id"`
	Title       string            `json:"title"`
	Summary     string            `json:"summary,omitempty"`
	URL         string            `json:"url"`
	Authors     []string          `json:"authors,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	ImageURL    string            `json:"image_url,omitempty"`
	PublishedAt time.Time         `json:"published_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	Feeds       map[string]string `json:"feeds"`
	// Revision counts the article's changes (1 when created, plus one per update or deletion):
	// of two events about one article, the higher revision is the newer state.
	Revision int64 `json:"revision"`
	// Reason, on removals only: ReasonDeleted or ReasonMoved.
	Reason string `json:"reason,omitempty"`
	// Truncated says that Bound shortened or dropped some text (see the Max* limits).
	Truncated bool `json:"truncated,omitempty"`
}

// OutboxRow is one event waiting in the store to be relayed to NATS. Everything the relay needs is
// computed when the row is written, so a relay on any replica publishes the same bytes.
type OutboxRow struct {
	Seq       int64 // store order; the relay publishes in this order
	EventID   string
	Subject   string
	Channel   string
	Payload   []byte // the CloudEvent JSON
	CreatedAt time.Time
}

// NewEventID returns a new event id: a UUIDv7 (RFC 9562), random and time-ordered. It is made once,
// when the outbox row is written, and stored with the row: a republished row keeps its id, which
// is its Nats-Msg-Id, and stays a duplicate, while events of another store, or of this one
// restored from a backup, never reuse an id that the stream's duplicate window still remembers.
func NewEventID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// ItemChange is what an item event announces: the article as stored at that change, its revision,
// when the store recorded the change, and for removals why.
type ItemChange struct {
	Type     string // EventPublished, EventUpdated or EventRemoved
	Article  *Article
	Revision int64
	At       time.Time
	Reason   string // removals: ReasonDeleted or ReasonMoved
}

// NewItemEvent builds the event announcing c in channel slug, with a new id.
func NewItemEvent(site Site, tree *Tree, slug string, c ItemChange) CloudEvent {
	a := c.Article
	feeds := map[string]string{}
	for _, f := range Formats {
		feeds[f] = site.FeedURL(slug, f)
	}
	itemID := site.ItemID(a.ID)
	return CloudEvent{
		SpecVersion:     "1.0",
		ID:              NewEventID(),
		Source:          site.BaseURL,
		Type:            c.Type,
		Subject:         itemID,
		Time:            c.At.UTC(),
		DataContentType: "application/json",
		DataSchema:      strings.TrimSuffix(site.BaseURL, "/") + ItemDataSchemaPath,
		Data: ItemData{
			Channel:     slug,
			ChannelPath: tree.Path(slug),
			ArticleID:   a.ID,
			ItemID:      itemID,
			Title:       a.Title,
			Summary:     a.Summary,
			URL:         site.ArticleURL(a),
			Authors:     a.Authors,
			Tags:        a.Tags,
			ImageURL:    a.ImageURL,
			PublishedAt: a.PublishedAt,
			UpdatedAt:   a.UpdatedAt,
			Feeds:       feeds,
			Revision:    c.Revision,
			Reason:      c.Reason,
		},
	}.Bound()
}

// OutboxRowFor encodes ev as an outbox row on subject, created at the given time.
//
// HTML characters are written as they are: json.Marshal would write each of < > & as \u003c, six
// bytes, and an event of HTML-like text would be six times the size its limits allow.
func OutboxRowFor(ev CloudEvent, subject string, created time.Time) (OutboxRow, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return OutboxRow{}, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	payload := bytes.TrimSuffix(b.Bytes(), []byte("\n")) // Encode ends the value with a newline
	return OutboxRow{EventID: ev.ID, Subject: subject, Channel: ev.Data.Channel, Payload: payload, CreatedAt: created}, nil
}

// DeadLetter is an outbox row the NATS server refused for a reason that a retry cannot fix (too
// large, a bad subject): the relay parks it, and the rest of its channel goes on without it.
// An operator can send it again (store.Store ResendDead), e.g. after raising max_payload.
type DeadLetter struct {
	Seq       int64
	EventID   string
	Subject   string
	Channel   string
	Size      int // payload bytes
	Error     string
	CreatedAt time.Time
	DeadAt    time.Time
}
