// Package ingest is how articles enter the store: the import use case every door shares (Importer:
// the admin API's POST /api/articles, `syndicate import` and upstream feeds validate, sanitise and
// store records through it, in batches), and the polling of upstream feeds with gofeed. Each poll
// is a conditional GET (gofeed does not do that itself): the source's ETag and Last-Modified from
// the previous poll are sent back, and a 304 changes nothing.
//
// Upstreams are not trusted. Connections go only to public addresses unless allowed (see
// AddressPolicy), redirects are capped and keep a source's credentials at its own origin, bodies
// are capped after decompression and by one deadline, XML entity declarations are refused,
// implausible dates are clamped (see itemDates), one bad item never costs the good ones, and
// nothing in a poll may panic its job. A failing source backs off without holding up any other job.
package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mmcdole/gofeed"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// Source is one upstream feed.
type Source struct {
	Name     string            // used in the job name (ingest:<name>) and in article ids
	URL      string            // RSS, Atom or JSON Feed
	Channels []string          // channels its items are filed in
	Header   map[string]string // extra request headers, e.g. Authorization; sent to URL's origin only
}

// Result says what one poll did.
type Result struct {
	NotModified bool
	Items       int // items in the fetched document
	Created     int
	Updated     int
	Unchanged   int
	Rejected    int // items the store refused or that could not be converted, see the log
	// FutureDated items were dated beyond the future horizon and clamped to the fetch time.
	FutureDated int
	// Undated items had no date, an unparseable one or one before 1900, and were dated with the
	// time they were first seen.
	Undated int
}

// ErrBackingOff is returned while a failing source waits before its next attempt.
var ErrBackingOff = errors.New("source is backing off")

// Store is what a Poller needs: the articles it imports (and reads, to keep the date it first gave
// an item without a plausible one), and each source's validators for conditional GETs.
type Store interface {
	Articles
	SourceState(ctx context.Context, name string) (store.SourceState, error)
	SaveSourceState(ctx context.Context, st store.SourceState) error
}

// Poller fetches sources. Its fields must be set before the first Poll.
type Poller struct {
	Store Store
	Tree  *syndicate.Tree
	// Client is shared by every source; make it with NewClient so the address policy and the
	// redirect rules apply.
	Client    *http.Client
	UserAgent string
	MaxBytes  int64 // response body cap, after decompression
	// Limits are the rules every door applies to an article (syndicate.Limits): items are
	// validated by them, and dates are clamped by them before that (see itemDates).
	Limits syndicate.Limits
	Log    *slog.Logger
	// Backoff bounds: after n consecutive failures a source waits min(Base·2ⁿ⁻¹, Max).
	BackoffBase, BackoffMax time.Duration
	// Fetched, when set, is called after every poll with "ok", "not_modified", "error" or "backoff".
	Fetched func(source, result string)
	Now     func() time.Time

	mu       sync.Mutex
	failures map[string]failure
}

// DefaultMaxBytes caps a response body unless configured.
const DefaultMaxBytes = 8 << 20

// ArticleID derives a stable article id from the source and the item's guid, else its link. An
// item with neither is identified by its title, date and content, so that it keeps its id across
// polls as long as it does not change.
func ArticleID(source string, it *gofeed.Item) string {
	key := it.GUID
	if key == "" {
		key = it.Link
	}
	if key == "" {
		date := it.Published
		if date == "" {
			date = it.Updated
		}
		key = "\x00" + it.Title + "\x00" + date + "\x00" + it.Description + "\x00" + it.Content
	}
	sum := sha256.Sum256([]byte(key))
	return source + ":" + hex.EncodeToString(sum[:12])
}

// Poll fetches the source once and stores new and changed items.
func (p *Poller) Poll(ctx context.Context, src Source) (res Result, err error) {
	result := "error"
	defer func() {
		if p.Fetched != nil {
			p.Fetched(src.Name, result)
		}
	}()
	if f, waiting := p.backingOff(src.Name); waiting {
		result = "backoff"
		return res, fmt.Errorf("ingest %s: %w %s", src.Name, ErrBackingOff, f)
	}
	defer func() {
		if err != nil {
			p.failed(src.Name, err)
		} else {
			p.succeeded(src.Name)
		}
	}()
	// Runs before the failure is recorded, so a panic counts as one.
	defer func() {
		if r := recover(); r != nil {
			p.Log.Error("upstream poll panicked", slog.String("source", src.Name), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("ingest %s: panic: %v", src.Name, r)
		}
	}()

	state, err := p.Store.SourceState(ctx, src.Name)
	if err != nil {
		return res, fmt.Errorf("ingest %s: %w", src.Name, err)
	}
	resp, err := p.get(ctx, src, state)
	if err != nil {
		return res, fmt.Errorf("ingest %s: %w", src.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		res.NotModified, result = true, "not_modified"
		return res, nil
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("ingest %s: GET %s: %s", src.Name, src.URL, resp.Status)
	}
	body, err := p.read(resp)
	if err != nil {
		return res, fmt.Errorf("ingest %s: %w", src.Name, err)
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		// Judged only when the parse fails: some servers label good feeds text/html.
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/html" || looksLikeHTML(body) {
			return res, fmt.Errorf("ingest %s: upstream returned text/html, not a feed (GET %s)", src.Name, resp.Request.URL.Redacted())
		}
		return res, fmt.Errorf("ingest %s: parse %s: %w", src.Name, src.URL, err)
	}
	res.Items = len(f.Items)
	now := p.now()
	records := make([]syndicate.DecodeResult, 0, len(f.Items))
	for i, it := range f.Items {
		a, fix, err := p.convert(src, it, now)
		switch fix {
		case dateClamped:
			res.FutureDated++
		case dateMissing:
			res.Undated++
		}
		if err == nil && fix != dateKept {
			// Keep the date it was first given, or every poll would look like an edit.
			if old, err := p.Store.Article(ctx, a.ID); err == nil {
				a.PublishedAt, a.UpdatedAt = old.PublishedAt, old.UpdatedAt
			}
		}
		records = append(records, syndicate.DecodeResult{Index: i, Article: a, Err: err})
	}
	if res.FutureDated+res.Undated > 0 {
		p.Log.Warn("upstream items with implausible dates", slog.String("source", src.Name),
			slog.Int("future_dated", res.FutureDated), slog.Int("undated", res.Undated),
			slog.String("policy", "future dates clamped to the fetch time; missing, unparseable and pre-1901 dates replaced by the first-seen time"))
	}
	lim := p.Limits
	lim.Now = p.now // the horizon counts from the poll, as the clamping did
	rep, err := ImportRecords(ctx, p.Store, p.Tree, lim, slices.Values(records))
	if err != nil {
		return res, fmt.Errorf("ingest %s: %w", src.Name, err)
	}
	res.Created, res.Updated, res.Unchanged, res.Rejected = rep.Created, rep.Updated, rep.Unchanged, rep.RejectedCount
	for _, r := range rep.Rejected {
		p.Log.Warn("upstream item rejected", slog.String("source", src.Name), slog.Int("index", r.Index), slog.String("error", r.Error))
	}
	// Validators are saved only after the items are stored: a crash in between refetches.
	next := store.SourceState{Name: src.Name, ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"), CheckedAt: p.now()}
	if err := p.Store.SaveSourceState(ctx, next); err != nil {
		return res, fmt.Errorf("ingest %s: %w", src.Name, err)
	}
	result = "ok"
	return res, nil
}

// convert maps one item, turning a panic into that item's error so the others are still stored.
func (p *Poller) convert(src Source, it *gofeed.Item, now time.Time) (a syndicate.Article, fix dateFix, err error) {
	defer func() {
		if r := recover(); r != nil {
			p.Log.Error("upstream item panicked", slog.String("source", src.Name), slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			err = fmt.Errorf("item could not be converted: %v", r)
		}
	}()
	if it == nil {
		return a, dateKept, errors.New("empty item")
	}
	a, fix = toArticle(src, it, now, p.Limits)
	return a, fix, nil
}

func (p *Poller) get(ctx context.Context, src Source, state store.SourceState) (*http.Response, error) {
	ctx, info := withRequestInfo(ctx, src.Header)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", p.UserAgent)
	req.Header.Set("Accept", "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5")
	for k, v := range src.Header {
		req.Header.Set(k, v)
	}
	if state.ETag != "" {
		req.Header.Set("If-None-Match", state.ETag)
	}
	if state.LastModified != "" {
		req.Header.Set("If-Modified-Since", state.LastModified)
	}
	resp, err := p.Client.Do(req)
	if re, ok := refusal(err); ok {
		// The dialler cannot tell a redirect's connection from the first one.
		re.Redirect = re.Redirect || info.redirected
		return nil, re
	}
	return resp, err
}

// read takes the body whole, refusing what is too big or declares entities. The transport
// decompresses gzip on the fly, so the cap counts decompressed bytes: a gzip bomb stops at it.
func (p *Poller) read(resp *http.Response) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(resp.Body, p.maxBytes()+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", resp.Request.URL.Redacted(), err)
	}
	if int64(len(body)) > p.maxBytes() {
		return nil, fmt.Errorf("%s is larger than the %d-byte cap (after decompression)", resp.Request.URL.Redacted(), p.maxBytes())
	}
	if declaresEntities(body) {
		return nil, fmt.Errorf("%s declares XML entities in its DOCTYPE: refused (entity expansion)", resp.Request.URL.Redacted())
	}
	return body, nil
}

// declaresEntities reports whether an XML document's DOCTYPE declares entities. Go's XML decoder
// expands none, so a billion-laughs document cannot blow up; but its references would end up as
// text in articles, and no honest feed needs them. Only the prolog counts: an article may well
// quote "<!ENTITY" in its text.
func declaresEntities(body []byte) bool {
	i := bytes.Index(body, []byte("<!DOCTYPE"))
	if i < 0 || i > firstElement(body) {
		return false
	}
	return bytes.Contains(body[i:i+firstElement(body[i:])], []byte("<!ENTITY"))
}

// firstElement is the offset of the first start tag, or len(body) without one.
func firstElement(body []byte) int {
	for i := 0; i+1 < len(body); i++ {
		if c := body[i+1]; body[i] == '<' && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80) {
			return i
		}
	}
	return len(body)
}

// looksLikeHTML tells an HTML page sent with a feed's (or no) content type from a broken feed.
func looksLikeHTML(body []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 512)]))
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}

func (p *Poller) maxBytes() int64 {
	if p.MaxBytes > 0 {
		return p.MaxBytes
	}
	return DefaultMaxBytes
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// toArticle maps a feed item to an article filed in the source's channels, its dates under the
// policy of itemDates.
func toArticle(src Source, it *gofeed.Item, now time.Time, lim syndicate.Limits) (a syndicate.Article, fix dateFix) {
	a = syndicate.Article{
		ID: ArticleID(src.Name, it), Title: it.Title, Summary: it.Description, ContentHTML: it.Content,
		URL: it.Link, Channels: src.Channels, Tags: it.Categories,
	}
	for _, p := range it.Authors {
		if p != nil && strings.TrimSpace(p.Name) != "" {
			a.Authors = append(a.Authors, p.Name)
		}
	}
	// gofeed's RSS translation keeps only the first dc:creator; an item may name several, in
	// several elements or, as Syndicate's own RSS does (readers show only the last of several),
	// in one joined with ", ".
	if dc := it.DublinCoreExt; dc != nil {
		var names []string
		for _, c := range dc.Creator {
			for _, n := range strings.Split(c, ", ") {
				if n = strings.TrimSpace(n); n != "" {
					names = append(names, n)
				}
			}
		}
		if len(names) > len(a.Authors) {
			a.Authors = names
		}
	}
	if it.Image != nil {
		a.ImageURL = it.Image.URL
	}
	for _, e := range it.Enclosures {
		if e != nil && a.ImageURL == "" && strings.HasPrefix(e.Type, "image/") {
			a.ImageURL = e.URL
		}
	}
	a.PublishedAt, a.UpdatedAt, fix = itemDates(it, now, lim)
	return a, fix
}
