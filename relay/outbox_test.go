package relay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/publisher"
)

// memOutbox is an in-memory Outbox.
type memOutbox struct {
	mu       sync.Mutex
	rows     []syndicate.OutboxRow // Seq order
	sent     map[int64]time.Time
	dead     map[int64]string
	seq      int64
	failMark int // MarkSent calls left to fail
	// beforeRead, when set, runs at the start of each PendingEvents, outside the lock: what
	// another process does to the outbox while a pass runs.
	beforeRead func(m *memOutbox)
}

func newMemOutbox() *memOutbox {
	return &memOutbox{sent: map[int64]time.Time{}, dead: map[int64]string{}}
}

var errMarkFailed = errors.New("mark sent failed (test)")

// add appends rows, numbering them in order.
func (m *memOutbox) add(rows ...syndicate.OutboxRow) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rows {
		m.seq++
		r.Seq = m.seq
		m.rows = append(m.rows, r)
	}
}

func (m *memOutbox) PendingEvents(ctx context.Context, limit int) ([]syndicate.OutboxRow, error) {
	if m.beforeRead != nil {
		m.beforeRead(m)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []syndicate.OutboxRow
	for _, r := range m.rows {
		if len(out) == limit {
			break
		}
		_, sent := m.sent[r.Seq]
		_, dead := m.dead[r.Seq]
		if !sent && !dead {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memOutbox) MarkDead(ctx context.Context, seq int64, reason string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sent[seq]; !ok {
		m.dead[seq] = reason
	}
	return nil
}

func (m *memOutbox) MarkSent(ctx context.Context, seqs []int64, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failMark > 0 {
		m.failMark--
		return errMarkFailed
	}
	for _, s := range seqs {
		if _, ok := m.sent[s]; !ok {
			m.sent[s] = at
		}
	}
	return nil
}

func (m *memOutbox) PruneSent(ctx context.Context, before time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	m.rows = slices.DeleteFunc(m.rows, func(r syndicate.OutboxRow) bool {
		at, ok := m.sent[r.Seq]
		if ok && at.Before(before) {
			delete(m.sent, r.Seq)
			n++
			return true
		}
		return false
	})
	return n, nil
}

// pending counts unsent rows.
func (m *memOutbox) pending() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rows) - len(m.sent) - len(m.dead)
}

// eventGen makes outbox rows for numbered channels, remembering each channel's order.
type eventGen struct {
	prefix string
	n      int
	want   map[string][]string // subject → event ids in order
}

func newEventGen(opts publisher.Options) *eventGen {
	return &eventGen{prefix: opts.SubjectPrefix, want: map[string][]string{}}
}

// rows returns count rows spread round-robin over channels ch0 … ch(channels-1).
func (g *eventGen) rows(t testing.TB, channels, count int) []syndicate.OutboxRow {
	t.Helper()
	out := make([]syndicate.OutboxRow, 0, count)
	for range count {
		g.n++
		slug := fmt.Sprintf("ch%d", g.n%channels)
		ev := syndicate.CloudEvent{
			SpecVersion:     "1.0",
			ID:              syndicate.NewEventID(),
			Source:          "https://news.example",
			Type:            syndicate.EventPublished,
			Subject:         fmt.Sprintf("a%d", g.n),
			Time:            time.Now().UTC(),
			DataContentType: "application/json",
			Data:            syndicate.ItemData{Channel: slug, ArticleID: fmt.Sprintf("a%d", g.n), Title: fmt.Sprintf("Item %d", g.n)},
		}
		row, err := syndicate.OutboxRowFor(ev, syndicate.EventSubject(g.prefix, []string{"region", slug}, ev.Type), ev.Time)
		if err != nil {
			t.Fatal(err)
		}
		g.want[row.Subject] = append(g.want[row.Subject], row.EventID)
		out = append(out, row)
	}
	return out
}

// total is the number of rows made.
func (g *eventGen) total() int { return g.n }

// storedMsg is one message read back from the stream.
type storedMsg struct {
	Seq     uint64
	Subject string
	MsgID   string
	Expect  string // Nats-Expected-Last-Msg-Id
	Data    []byte
}

// readStream returns every message of the stream in order.
func readStream(t testing.TB, js jetstream.JetStream, stream string) []storedMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	total := s.CachedInfo().State.Msgs
	if total == 0 {
		return nil
	}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	it, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	out := make([]storedMsg, 0, total)
	for uint64(len(out)) < total {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			t.Fatalf("read message %d of %d: %v", len(out)+1, total, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, storedMsg{Seq: meta.Sequence.Stream, Subject: msg.Subject(),
			MsgID: msg.Headers().Get(jetstream.MsgIDHeader), Expect: msg.Headers().Get(jetstream.ExpectedLastMsgIDHeader),
			Data: msg.Data()})
	}
	return out
}

// checkExactlyOnce verifies the stream holds every generated event once, in channel order.
func checkExactlyOnce(t testing.TB, msgs []storedMsg, g *eventGen) {
	t.Helper()
	if len(msgs) != g.total() {
		t.Errorf("stream holds %d messages, want %d", len(msgs), g.total())
	}
	seen := map[string]uint64{}
	got := map[string][]string{}
	for _, m := range msgs {
		if first, dup := seen[m.MsgID]; dup {
			t.Errorf("Nats-Msg-Id %s stored twice: sequences %d and %d", m.MsgID, first, m.Seq)
		}
		seen[m.MsgID] = m.Seq
		got[m.Subject] = append(got[m.Subject], m.MsgID)
	}
	for subject, want := range g.want {
		if !slices.Equal(got[subject], want) {
			t.Errorf("%s: %d events, want %d; first difference at %d", subject, len(got[subject]), len(want),
				firstDiff(got[subject], want))
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
