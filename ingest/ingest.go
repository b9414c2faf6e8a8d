// Package ingest polls upstream feeds with gofeed and stores their items as articles. Each poll is
// a conditional GET (gofeed does not do that itself): the source's ETag and Last-Modified from the
// previous poll are sent back, and a 304 changes nothing. Responses are size- and time-capped, and
// a failing source backs off without holding up any other job.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
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
	Header   map[string]string // extra request headers, e.g. Authorization
}

// Result says what one poll did.
type Result struct {
	NotModified bool
	Items       int // items in the fetched document
	Created     int
	Updated     int
	Unchanged   int
	Rejected    int
}

// ErrBackingOff is returned while a failing source waits before its next attempt.
var ErrBackingOff = errors.New("source is backing off after failures")

// Poller fetches sources. Its fields must be set before the first Poll.
type Poller struct {
	Store store.Store
	Tree  *syndicate.Tree
	// Client is shared by every source: keep-alive connections, one timeout, one redirect cap.
	Client    *http.Client
	UserAgent string
	MaxBytes  int64 // response body cap
	Log       *slog.Logger
	// Backoff bounds: after n consecutive failures a source waits min(Base·2ⁿ⁻¹, Max).
	BackoffBase, BackoffMax time.Duration
	// Fetched, when set, is called after every poll with "ok", "not_modified", "error" or "backoff".
	Fetched func(source, result string)
	Now     func() time.Time

	mu       sync.Mutex
	failures map[string]failure
}

type failure struct {
	count int
	until time.Time
}

// DefaultMaxBytes caps a response body unless configured.
const DefaultMaxBytes = 8 << 20

// NewClient returns the HTTP client sources share: a timeout per request and at most
// maxRedirects redirects.
func NewClient(timeout time.Duration, maxRedirects int) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
}

// ArticleID derives a stable article id from the source and the item's guid (else its link).
func ArticleID(source string, it *gofeed.Item) string {
	key := it.GUID
	if key == "" {
		key = it.Link
	}
	if key == "" {
		key = it.Title
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
	if until, waiting := p.backingOff(src.Name); waiting {
		result = "backoff"
		return res, fmt.Errorf("ingest %s: %w until %s", src.Name, ErrBackingOff, until.Format(time.RFC3339))
	}
	defer func() {
		if err != nil {
			p.failed(src.Name)
		} else {
			p.succeeded(src.Name)
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
	body, err := io.ReadAll(io.LimitReader(resp.Body, p.maxBytes()+1))
	if err != nil {
		return res, fmt.Errorf("ingest %s: read %s: %w", src.Name, src.URL, err)
	}
	if int64(len(body)) > p.maxBytes() {
		return res, fmt.Errorf("ingest %s: %s is larger than the %d-byte cap", src.Name, src.URL, p.maxBytes())
	}
	f, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		return res, fmt.Errorf("ingest %s: parse %s: %w", src.Name, src.URL, err)
	}
	res.Items = len(f.Items)
	var records []syndicate.DecodeResult
	for i, it := range f.Items {
		a, dated := toArticle(src, it, p.now())
		if !dated {
			// Keep the date it was first seen, or every poll would look like an edit.
			if old, err := p.Store.Article(ctx, a.ID); err == nil {
				a.PublishedAt, a.UpdatedAt = old.PublishedAt, old.UpdatedAt
			}
		}
		records = append(records, syndicate.DecodeResult{Index: i, Article: a})
	}
	rep, err := store.Import(ctx, p.Store, p.Tree, records)
	if err != nil {
		return res, fmt.Errorf("ingest %s: %w", src.Name, err)
	}
	res.Created, res.Updated, res.Unchanged, res.Rejected = rep.Created, rep.Updated, rep.Unchanged, len(rep.Rejected)
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

func (p *Poller) get(ctx context.Context, src Source, state store.SourceState) (*http.Response, error) {
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
	return p.Client.Do(req)
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

func (p *Poller) backingOff(name string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.failures[name]
	return f.until, p.now().Before(f.until)
}

func (p *Poller) failed(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failures == nil {
		p.failures = map[string]failure{}
	}
	f := p.failures[name]
	f.count++
	wait := p.BackoffBase << min(f.count-1, 20)
	if wait > p.BackoffMax || wait <= 0 {
		wait = p.BackoffMax
	}
	f.until = p.now().Add(wait)
	p.failures[name] = f
}

func (p *Poller) succeeded(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.failures, name)
}

// toArticle maps a feed item to an article filed in the source's channels; dated is false when
// the item has no date and now was used.
func toArticle(src Source, it *gofeed.Item, now time.Time) (a syndicate.Article, dated bool) {
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
		if a.ImageURL == "" && strings.HasPrefix(e.Type, "image/") {
			a.ImageURL = e.URL
		}
	}
	dated = true
	switch {
	case it.PublishedParsed != nil:
		a.PublishedAt = *it.PublishedParsed
	case it.UpdatedParsed != nil:
		a.PublishedAt = *it.UpdatedParsed
	default:
		a.PublishedAt, dated = now, false
	}
	if it.UpdatedParsed != nil && !it.UpdatedParsed.Before(a.PublishedAt) {
		a.UpdatedAt = *it.UpdatedParsed
	}
	return a, dated
}
