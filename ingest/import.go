package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/sanitize"
	"github.com/yongzhou-news/syndicate/store"
)

// Articles is the part of the store an import writes to: it compares records with the stored
// hashes, writes batches, and, when the store refuses a batch, writes its records one by one and
// pings the store to tell a refused record from a store that is down.
type Articles interface {
	ArticleHashes(ctx context.Context, ids []string) (map[string]string, error)
	UpsertArticles(ctx context.Context, ws []store.Write) ([]store.Upserted, error)
	UpsertArticle(ctx context.Context, a syndicate.Article) (store.UpsertOutcome, error)
	Article(ctx context.Context, id string) (syndicate.Article, error)
	Ping(ctx context.Context) error
}

// Import validates and stores records with the default limits; see ImportRecords.
func Import(ctx context.Context, s Articles, tree *syndicate.Tree, records []syndicate.DecodeResult) (ImportReport, error) {
	return ImportRecords(ctx, s, tree, syndicate.DefaultLimits(), slices.Values(records))
}

// ImportRecords validates and stores records as they come, in batches of DefaultBatchSize; see
// Importer.
func ImportRecords(ctx context.Context, s Articles, tree *syndicate.Tree, lim syndicate.Limits, records iter.Seq[syndicate.DecodeResult]) (ImportReport, error) {
	im := Importer{Store: s, Tree: tree, Limits: lim}
	return im.Import(ctx, records)
}

// DefaultBatchSize is how many records an import stores per transaction unless told otherwise.
const DefaultBatchSize = 1000

// batchLinger is how long a batch waits for more records once it has one: a client that sends
// records one at a time over a slow stream sees each stored about this soon.
const batchLinger = 100 * time.Millisecond

// maxBatchBytes ends a batch early when its records' text adds up to this much, and
// maxInFlightBytes holds the decoder back while this much is read and not yet stored, so that
// records near the size limit do not fill batches of hundreds of megabytes: an import's memory
// stays within a small multiple of it (the heap bounds of TestImportHeapIsBounded and
// TestPostArticlesLargestBody).
const (
	maxBatchBytes    = 1 << 20
	maxInFlightBytes = 3 * maxBatchBytes
)

// Importer validates and stores records in batches. Records are read as they come, so an input
// is never held whole: at most a few batches are in memory at once. While the store writes one
// batch in one transaction (Articles.UpsertArticles), the next is validated, hashed and compared with
// the stored hashes, and its changed records sanitised, on all CPUs.
//
// A record that is invalid is rejected without stopping the others. When the store refuses a
// batch as a whole, its records are stored again one by one, so that only the one the store
// refuses (a constraint, a value the database cannot hold) is rejected. Only a store that fails
// as a whole (the context is done, or it no longer answers a ping) stops the import: the error is
// returned with the report of the batches stored until then, so nothing is lost silently.
type Importer struct {
	Store  Articles
	Tree   *syndicate.Tree
	Limits syndicate.Limits
	// BatchSize is how many records one transaction stores (DefaultBatchSize when 0).
	BatchSize int
	// Workers is how many goroutines validate, hash and sanitise (GOMAXPROCS when 0).
	Workers int
	// Progress, when set, is called after each batch is committed, with the report until then. It
	// runs on the importing goroutine and must not keep the report's slices.
	Progress func(ImportReport)
}

// item is one record on its way through an import.
type item struct {
	rec      syndicate.DecodeResult
	hash     string
	write    store.Write // once sanitised
	err      error
	outcome  store.UpsertOutcome
	before   []string
	sanitise bool
}

// batch is the records one transaction stores.
type batch struct {
	items  []item
	weight int64 // of its records
	last   bool  // the input's last batch: every record was read
}

// weight is what a record counts for in maxInFlightBytes: its size as sent, since a record of
// lists weighs far more decoded than its text (8 MiB of "authors":["","",…] are 2.8 million
// strings, 39 MiB), or, for records no decoder read (upstream items), its text; at least what
// every record has besides its text.
func weight(rec syndicate.DecodeResult) int64 {
	a := &rec.Article
	return min(maxInFlightBytes, int64(max(rec.Size, len(a.ContentHTML)+len(a.Summary)+len(a.Title)+512)))
}

// Import reads records to the end and stores them; see Importer.
func (im *Importer) Import(ctx context.Context, records iter.Seq[syndicate.DecodeResult]) (ImportReport, error) {
	size := im.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	workers := im.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	pipeCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	recs := make(chan syndicate.DecodeResult, size)
	read := make(chan *batch, 1)
	prepared := make(chan *batch, 1)
	inFlight := semaphore.NewWeighted(maxInFlightBytes)
	var readAll atomic.Bool // the records ran out, rather than the import stopping
	wg.Go(func() {
		defer close(recs)
		for rec := range records {
			if inFlight.Acquire(pipeCtx, weight(rec)) != nil {
				return
			}
			select {
			case recs <- rec:
			case <-pipeCtx.Done():
				return
			}
		}
		readAll.Store(true)
	})
	wg.Go(func() {
		defer close(read)
		send := func(b *batch) bool {
			select {
			case read <- b:
				return true
			case <-pipeCtx.Done():
				return false
			}
		}
		linger := time.NewTimer(time.Hour)
		defer linger.Stop()
		b := &batch{items: make([]item, 0, size)}
		for {
			var rec syndicate.DecodeResult
			var ok, flush bool
			if len(b.items) == 0 {
				rec, ok = <-recs
			} else {
				select {
				case rec, ok = <-recs:
				case <-linger.C:
					flush = true
				}
			}
			if !ok && !flush {
				// The last batch says whether the input was read to its end, even when empty.
				b.last = readAll.Load()
				send(b)
				return
			}
			if !flush {
				if len(b.items) == 0 {
					linger.Reset(batchLinger)
				}
				b.items = append(b.items, item{rec: rec})
				b.weight += weight(rec)
				flush = len(b.items) == size || b.weight >= maxBatchBytes
			}
			if flush {
				if !send(b) {
					return
				}
				b = &batch{items: make([]item, 0, size)}
			}
		}
	})
	wg.Go(func() {
		defer close(prepared)
		for b := range read {
			im.prepare(pipeCtx, b, workers)
			select {
			case prepared <- b:
			case <-pipeCtx.Done():
				return
			}
		}
	})
	// Whatever happens, the reading goroutine is done with records before Import returns: the
	// caller may then ask its decoder why it stopped.
	defer func() {
		cancel()
		for range prepared {
		}
		wg.Wait()
	}()

	rep := ImportReport{Rejected: []Rejection{}}
	touched := map[string]bool{}
	complete := false
	for b := range prepared {
		done, err := im.store(ctx, b)
		inFlight.Release(b.weight)
		for i := range b.items[:done] {
			it := &b.items[i]
			rep.Records++
			if it.err != nil {
				rep.reject(it.rec.Index, it.rec.Article.ID, it.err, im.Limits.Rejections())
				continue
			}
			switch it.outcome {
			case store.UpsertCreated:
				rep.Created++
			case store.UpsertUpdated:
				rep.Updated++
			case store.UpsertUnchanged:
				rep.Unchanged++
				continue
			}
			for _, c := range append(it.before, it.rec.Article.Channels...) {
				if !touched[c] {
					touched[c] = true
					rep.Channels = append(rep.Channels, c)
				}
			}
		}
		if err != nil {
			rep.Error = fmt.Sprintf("the store failed at record %d; the records before it are reported, the rest were not stored", b.items[done].rec.Index)
			return rep, err
		}
		complete = b.last
		if im.Progress != nil && len(b.items) > 0 {
			im.Progress(rep)
		}
	}
	if !complete {
		// The context ended while records were still coming: those not reported were not stored.
		err := context.Cause(ctx)
		if err == nil {
			err = errors.New("stopped")
		}
		rep.Error = fmt.Sprintf("the import stopped after record %d; the records before it are reported, the rest were not stored", rep.Records-1)
		return rep, fmt.Errorf("ingest: import: %w", err)
	}
	return rep, nil
}

// prepare validates and hashes a batch's records on all workers, reads the stored hashes of the
// valid ones at once, and sanitises those that changed, again on all workers: once here, not in
// every build that renders them, and not at all for the unchanged records an upstream poll or a
// re-run import brings again and again.
func (im *Importer) prepare(ctx context.Context, b *batch, workers int) {
	parallel(len(b.items), workers, func(i int) {
		it := &b.items[i]
		if it.err = it.rec.Err; it.err != nil {
			return
		}
		a := &it.rec.Article
		a.Normalize()
		if it.err = a.Validate(im.Tree.Has, im.Limits); it.err == nil {
			it.hash = a.Hash()
		}
	})
	ids := make([]string, 0, len(b.items))
	for i := range b.items {
		if b.items[i].err == nil {
			ids = append(ids, b.items[i].rec.Article.ID)
		}
	}
	if len(ids) == 0 {
		return
	}
	// Without the stored hashes every record is sanitised: the store, if it is down, says so
	// when the batch is written.
	stored, err := im.Store.ArticleHashes(ctx, ids)
	for i := range b.items {
		it := &b.items[i]
		it.sanitise = it.err == nil && (err != nil || stored[it.rec.Article.ID] != it.hash)
	}
	parallel(len(b.items), workers, func(i int) {
		it := &b.items[i]
		if it.err != nil {
			return
		}
		if it.sanitise {
			it.rec.Article.Sanitized = sanitize.HTML(it.rec.Article.ContentHTML)
		}
		// Hash reads no sanitised content: the one computed before stands.
		data, err := json.Marshal(it.rec.Article)
		if err != nil {
			it.err = fmt.Errorf("ingest: encode article %q: %w", it.rec.Article.ID, err)
			return
		}
		it.write = store.Write{Article: it.rec.Article, Hash: it.hash, Data: data}
	})
}

// store writes a batch's valid records in one transaction, or, when the store refuses the batch,
// one by one so that only the records it refuses are rejected. It returns how many of the batch's
// records are done with (stored, rejected or unchanged): all of them, unless the store fails as a
// whole, which is the error.
func (im *Importer) store(ctx context.Context, b *batch) (int, error) {
	ws := make([]store.Write, 0, len(b.items))
	for i := range b.items {
		if it := &b.items[i]; it.err == nil {
			ws = append(ws, it.write)
		}
	}
	if len(ws) == 0 {
		return len(b.items), nil
	}
	res, err := im.Store.UpsertArticles(ctx, ws)
	if err == nil {
		j := 0
		for i := range b.items {
			if it := &b.items[i]; it.err == nil {
				it.outcome, it.before = res[j].Outcome, res[j].Before
				j++
			}
		}
		return len(b.items), nil
	}
	if down := storeDown(ctx, im.Store); down != nil {
		return 0, fmt.Errorf("ingest: import records %d to %d: %w (store unavailable: %v)", b.items[0].rec.Index, b.items[len(b.items)-1].rec.Index, err, down)
	}
	for i := range b.items {
		it := &b.items[i]
		if it.err != nil {
			continue
		}
		a := it.rec.Article
		if old, err := im.Store.Article(ctx, a.ID); err == nil {
			it.before = old.Channels
		}
		if it.outcome, err = im.Store.UpsertArticle(ctx, a); err != nil {
			if down := storeDown(ctx, im.Store); down != nil {
				return i, fmt.Errorf("ingest: import record %d (%q): %w (store unavailable: %v)", it.rec.Index, a.ID, err, down)
			}
			it.err = fmt.Errorf("ingest: import record %d (%q): %w", it.rec.Index, a.ID, err)
		}
	}
	return len(b.items), nil
}

// parallel calls fn(i) for every i below n on up to workers goroutines.
func parallel(n, workers int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// storeDown tells a store that cannot take any record from one that refused this record.
func storeDown(ctx context.Context, s Articles) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.Ping(ctx)
}
