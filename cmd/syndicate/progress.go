package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/yongzhou-news/syndicate/ingest"
)

// countingReader counts the bytes an import has read of its input, for the progress line.
type countingReader struct {
	r     io.Reader
	n     atomic.Int64
	total int64 // the input's size, -1 when unknown (standard input)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress shows how an import goes after each committed batch: a live line on a terminal, a log
// line every so often otherwise (a job's log, a pipe). Only committed batches count, so what it
// says was stored survives a crash.
type progress struct {
	in    *countingReader
	bar   *progressbar.ProgressBar // nil without a terminal
	log   *slog.Logger
	every time.Duration
	start time.Time
	last  time.Time // of the last log line
}

func newProgress(in *countingReader, stderr io.Writer, log *slog.Logger, every time.Duration) *progress {
	p := &progress{in: in, log: log, every: every, start: time.Now()}
	p.last = p.start
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(in.total,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// update is the importer's Progress callback.
func (p *progress) update(rep ingest.ImportReport) {
	now := time.Now()
	rate := float64(rep.Records) / max(now.Sub(p.start).Seconds(), 1e-3)
	read := p.in.n.Load()
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("%d records, %.0f/s", rep.Records, rate))
		p.bar.Set64(read)
		return
	}
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	attrs := []any{slog.Int("records", rep.Records), slog.Int("created", rep.Created), slog.Int("updated", rep.Updated),
		slog.Int("unchanged", rep.Unchanged), slog.Int("rejected", rep.RejectedCount),
		slog.Int("per_second", int(rate)), slog.Int64("bytes_read", read)}
	if p.in.total > 0 {
		attrs = append(attrs, slog.Int64("bytes_total", p.in.total))
		if read > 0 {
			left := time.Duration(float64(now.Sub(p.start)) * float64(p.in.total-read) / float64(read))
			attrs = append(attrs, slog.String("eta", left.Round(time.Second).String())) // "1m5s", in JSON logs too
		}
	}
	p.log.Info("import progress", attrs...)
}

// finish takes the live line away before the final report.
func (p *progress) finish(rep ingest.ImportReport) {
	if p.bar != nil {
		p.bar.Finish()
		p.bar.Clear()
		return
	}
	p.log.Info("import done", slog.Int("records", rep.Records),
		slog.Int("per_second", int(float64(rep.Records)/max(time.Since(p.start).Seconds(), 1e-3))))
}
