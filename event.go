package syndicate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Event types, CloudEvents `type` attribute values.
const (
	EventPublished = "syndicate.item.published"
	EventUpdated   = "syndicate.item.updated"
	EventRemoved   = "syndicate.item.removed"
)

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

// ItemData is the `data` of an item event; schema/item-data.schema.json describes it.
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

// EventID is the stable id of the event announcing one change (identified by the article's change
// sequence number) of one article in one channel. It doubles as the JetStream Nats-Msg-Id, so a
// republished row is recognised as a duplicate.
func EventID(channel, articleID, typ string, change int64) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", channel, articleID, typ, change))
	return hex.EncodeToString(sum[:16])
}

// NewItemEvent builds the event for article a in channel slug.
func NewItemEvent(site Site, tree *Tree, slug, typ string, a *Article, change int64, at time.Time) CloudEvent {
	feeds := map[string]string{}
	for _, f := range Formats {
		feeds[f] = site.FeedURL(slug, f)
	}
	return CloudEvent{
		SpecVersion:     "1.0",
		ID:              EventID(slug, a.ID, typ, change),
		Source:          site.BaseURL,
		Type:            typ,
		Subject:         slug,
		Time:            at.UTC(),
		DataContentType: "application/json",
		Data: ItemData{
			Channel:     slug,
			ChannelPath: tree.Path(slug),
			ArticleID:   a.ID,
			ItemID:      site.ItemID(a.ID),
			Title:       a.Title,
			Summary:     a.Summary,
			URL:         site.ArticleURL(a),
			Authors:     a.Authors,
			Tags:        a.Tags,
			ImageURL:    a.ImageURL,
			PublishedAt: a.PublishedAt,
			UpdatedAt:   a.UpdatedAt,
			Feeds:       feeds,
		},
	}.Bound()
}

// OutboxRowFor encodes ev as an outbox row on subject.
func OutboxRowFor(ev CloudEvent, subject string) (OutboxRow, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return OutboxRow{}, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	return OutboxRow{EventID: ev.ID, Subject: subject, Channel: ev.Subject, Payload: payload, CreatedAt: ev.Time}, nil
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
