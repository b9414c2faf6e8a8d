package hub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
	"github.com/yongzhou-news/syndicate/websub"
)

// maxAnswerBytes is how much of a subscriber's answer to a delivery is read before the
// connection is given up; the body means nothing to the hub.
const maxAnswerBytes = 64 << 10

// payload is what a queued delivery holds: which document, not the document itself, so that a
// thousand subscribers of a feed do not make a thousand copies of it in the queue.
type payload struct {
	Topic  string `json:"topic"`
	ETag   string `json:"etag"`   // of the document when the change was queued
	Queued int64  `json:"queued"` // Unix nanoseconds, for the delivery latency
}

// Publish takes the documents a build changed and queues their delivery to every subscriber
// of their topics. It never blocks on the store or a subscriber.
func (h *Hub) Publish(docs ...syndicate.Document) {
	h.mu.Lock()
	n := 0
	for _, d := range docs {
		topic := h.opt.Site.FeedURL(d.Channel, d.Format)
		if !h.Topic(topic) {
			continue
		}
		h.pending[topic] = d
		n++
	}
	h.mu.Unlock()
	if n == 0 {
		return
	}
	select {
	case h.dirty <- struct{}{}:
	default:
	}
}

// fanOut queues the changes Publish took, until ctx ends. It lets changes gather for
// fanOutDelay after the first: a tick builds many channels within a second, and each flush is a
// subscriber lookup and a queue transaction, and each lane it wakes a claim. Changes the store
// refused are kept and queued again with SaveLoop's back-off: a database that goes away for a
// while loses no delivery.
func (h *Hub) fanOut(ctx context.Context) { websub.SaveLoop(ctx, h.dirty, fanOutDelay, h.flush) }

// fanOutDelay is how long changes gather before their deliveries are queued: short beside the
// 2 s post → callback target of the 1,000-topic hub benchmark, long enough that the tick's
// thousand builds are queued in tens of flushes rather than hundreds.
const fanOutDelay = 20 * time.Millisecond

// Flush queues the deliveries of every change Publish took so far. Close calls it; tests call
// it to know the queue holds them. Changes the store refused are kept for fanOut's next attempt,
// and the error returned.
func (h *Hub) Flush() error { return h.flush() }

func (h *Hub) flush() error {
	h.flushMu.Lock()
	defer h.flushMu.Unlock()
	h.mu.Lock()
	changed := make(map[string]syndicate.Document, len(h.pending))
	for t, d := range h.pending {
		changed[t] = d
	}
	clear(h.pending)
	h.mu.Unlock()
	if len(changed) == 0 {
		return nil
	}
	// One read for every topic's subscribers and one transaction for their deliveries: during a
	// rebuild of many channels, one of each per topic would queue behind the builds' own work
	// (SQLite has one writer).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topics := slices.Collect(maps.Keys(changed))
	now := h.opt.Now()
	subs, err := h.opt.Store.SubscribersOf(ctx, topics, now)
	if err != nil {
		h.keep(changed)
		h.opt.Log.Error("websub hub: list subscribers; changes kept in memory to try again", slog.Int("topics", len(topics)), slog.Any("error", err))
		return fmt.Errorf("websub hub: list subscribers of %d topics: %w", len(topics), err)
	}
	byTopic := map[string][]store.Subscription{}
	for _, s := range subs {
		byTopic[s.Topic] = append(byTopic[s.Topic], s)
	}
	var items []store.QueueItem
	for topic, doc := range changed {
		its, err := h.distribute(topic, doc, byTopic[topic], now)
		if err != nil {
			h.opt.Log.Error("websub hub: deliveries dropped", slog.String("topic", topic), slog.Any("error", err))
			continue
		}
		items = append(items, its...)
	}
	if len(items) == 0 {
		return nil
	}
	if err := h.out.Enqueue(ctx, items); err != nil {
		h.keep(changed)
		h.opt.Log.Error("websub hub: queue deliveries; changes kept in memory to try again", slog.Int("topics", len(changed)), slog.Int("deliveries", len(items)), slog.Any("error", err))
		return fmt.Errorf("websub hub: queue %d deliveries: %w", len(items), err)
	}
	return nil
}

// keep puts back the changes of a flush the store refused, unless Publish took a newer document
// of the same topic meanwhile: that one is the one to deliver.
func (h *Hub) keep(changed map[string]syndicate.Document) {
	h.mu.Lock()
	for t, d := range changed {
		if _, newer := h.pending[t]; !newer {
			h.pending[t] = d
		}
	}
	h.mu.Unlock()
}

// distribute returns the deliveries of doc, topic's new document, one per subscriber in subs.
// Only documents of feeds with subscribers are kept in memory, for their deliveries.
func (h *Hub) distribute(topic string, doc syndicate.Document, subs []store.Subscription, now time.Time) ([]store.QueueItem, error) {
	f := h.topics[topic]
	h.docMu.Lock()
	if len(subs) == 0 {
		delete(h.docs, f) // no one left to send it to
	} else {
		h.docs[f] = &sendDoc{etag: doc.ETag, body: doc.Body, used: now}
	}
	h.docMu.Unlock()
	if len(subs) == 0 {
		return nil, nil
	}
	p, err := json.Marshal(payload{Topic: topic, ETag: doc.ETag, Queued: time.Now().UnixNano()})
	if err != nil {
		return nil, err
	}
	items := make([]store.QueueItem, 0, len(subs))
	for _, s := range subs {
		items = append(items, store.QueueItem{Target: h.lane(s.Host), Topic: strconv.FormatInt(s.ID, 10), Payload: p})
	}
	return items, nil
}

// sendDoc is what a delivery sends of a feed's document: the body as served uncompressed (a
// callback gets no Content-Encoding), which is also what the signature covers.
type sendDoc struct {
	etag string
	body []byte
	used time.Time // set or sent last, by the hub's clock
}

// docIdle is how long a document no delivery used stays in memory while the queue holds work:
// its rows may have gone to another replica or been given up, and a later delivery of it loads
// it from the store again.
const docIdle = time.Minute

// document returns the body of feed's document, from memory when it is the one with etag, else
// from the store (queued by another replica, or before a restart): a newer document than the
// one queued is as good or better.
func (h *Hub) document(ctx context.Context, f feedRef, etag string) ([]byte, error) {
	now := h.opt.Now()
	h.docMu.Lock()
	d, ok := h.docs[f]
	if ok && d.etag == etag {
		d.used = now
		h.docMu.Unlock()
		return d.body, nil
	}
	h.docMu.Unlock()
	doc, err := h.opt.Store.Document(ctx, f.channel, f.format)
	if err != nil {
		return nil, fmt.Errorf("websub hub: load %s.%s: %w", f.channel, f.format, err)
	}
	h.docMu.Lock()
	h.docs[f] = &sendDoc{etag: doc.ETag, body: doc.Body, used: now}
	h.docMu.Unlock()
	return doc.Body, nil
}

// sweepDocs forgets the documents no delivery needs: all of them once the queue holds no
// delivery, else those no delivery used for docIdle.
func (h *Hub) sweepDocs(ctx context.Context) {
	depth, _, err := h.opt.Store.QueueStats(ctx, KindDistribute)
	if err != nil {
		return // kept until a sweep can tell
	}
	cutoff := h.opt.Now().Add(-docIdle)
	h.docMu.Lock()
	defer h.docMu.Unlock()
	if depth == 0 {
		clear(h.docs)
		return
	}
	for f, d := range h.docs {
		if d.used.Before(cutoff) {
			delete(h.docs, f)
		}
	}
}

// send makes one content distribution (WebSub §7): the topic's document POSTed to the
// subscriber's callback, signed with its secret. A subscription gone since the row was queued
// gets nothing; one whose callback answers 410 Gone is ended (§7: the hub MAY).
func (h *Hub) send(ctx context.Context, d store.Delivery) error {
	id, err := strconv.ParseInt(d.Topic, 10, 64)
	if err != nil {
		return nil // not a row this hub queued: nothing to send it to
	}
	var p payload
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		return nil
	}
	f, ok := h.topics[p.Topic]
	if !ok {
		return nil // a channel removed since
	}
	sub, err := h.opt.Store.SubscriptionByID(ctx, id)
	if syndicate.ErrorCode(err) == syndicate.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	if !sub.ExpiresAt.After(h.opt.Now()) {
		return nil
	}
	ok, busy := h.hosts.take(sub.Host)
	if !ok {
		return &websub.Postponed{After: postponement(busy, h.opt.Timeout), Reason: fmt.Sprintf("callback host %s has %d deliveries in flight", sub.Host, h.opt.PerHost)}
	}
	defer h.hosts.done(sub.Host)
	body, err := h.document(ctx, f, p.ETag)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Callback, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", syndicate.ContentTypes[f.format])
	req.Header.Set("Link", "<"+h.url+`>; rel="hub", <`+sub.Topic+`>; rel="self"`)
	req.Header.Set("User-Agent", userAgent)
	if sub.Secret != "" {
		req.Header.Set("X-Hub-Signature", Signature(sub.Secret, body))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		if refused := refusedCallback(err); refused != nil {
			return refused
		}
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusGone:
		if _, err := h.opt.Store.DeleteSubscription(ctx, sub.Callback, sub.Topic); err != nil {
			return err
		}
		h.opt.Log.Info("websub hub: subscriber answered 410 Gone; subscription ended", slog.String("callback", sub.Callback), slog.String("topic", sub.Topic))
		return nil
	case resp.StatusCode/100 != 2:
		return answered(resp)
	}
	if p.Queued > 0 {
		h.m.latency.Observe(time.Since(time.Unix(0, p.Queued)).Seconds())
	}
	return nil
}

// Signature is the X-Hub-Signature of body under secret (WebSub §7.1): sha256, the strongest of
// the methods the Recommendation names; sha1 is never used.
func Signature(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}
