package app_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/nats-io/nats.go/jetstream"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/schema"
)

const token = "e2e-token"

// newApp starts a service on a temp-dir SQLite file and an in-process embedded nats-server,
// without schedules, so the test decides when builds run.
func newApp(t *testing.T, env ...string) (*app.App, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Load("", append([]string{
		"SYNDICATE_DATA_DIR=" + dir,
		"SYNDICATE_NATS_LISTEN=",
		"SYNDICATE_DEMO=false",
		"SYNDICATE_ADMIN_TOKEN=" + token,
	}, env...))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := app.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Web.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := a.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a, srv
}

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "demo", "lingling-article.json"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(t *testing.T, srv *httptest.Server, tok string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/articles", bytes.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func get(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// A bare transport: the default one would add Accept-Encoding and unzip for us.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func build(t *testing.T, a *app.App, slugs ...string) {
	t.Helper()
	for _, s := range slugs {
		if _, err := a.Builder.Build(context.Background(), s); err != nil {
			t.Fatalf("build %s: %v", s, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Relay.Flush(ctx); err != nil {
		t.Fatalf("relay flush: %v", err)
	}
}

// streamMessages returns every event in the stream, by subject.
func streamMessages(t *testing.T, a *app.App) map[string][]syndicate.CloudEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js := a.NATS.JetStream()
	stream, err := js.Stream(ctx, a.Config.NATS.Stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]syndicate.CloudEvent{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		msg, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get message %d: %v", seq, err)
		}
		if err := schema.ValidateItemEvent(msg.Data); err != nil {
			t.Errorf("message %d: %v", seq, err)
		}
		var ev syndicate.CloudEvent
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			t.Fatalf("message %d is not a CloudEvent: %v", seq, err)
		}
		if got := msg.Header.Get(jetstream.MsgIDHeader); got != ev.ID {
			t.Errorf("message %d: Nats-Msg-Id %q, CloudEvents id %q", seq, got, ev.ID)
		}
		if ct := msg.Header.Get("Content-Type"); ct != "application/cloudevents+json" {
			t.Errorf("message %d: Content-Type %q", seq, ct)
		}
		if want := syndicate.EventSubject("syndicate", ev.Data.ChannelPath, ev.Type); msg.Subject != want {
			t.Errorf("message %d on %s, want %s", seq, msg.Subject, want)
		}
		// Keyed by channel (prefix.items.<path>), every type together in stream order.
		key := "syndicate.items." + strings.Join(ev.Data.ChannelPath, ".")
		out[key] = append(out[key], ev)
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	a, srv := newApp(t)
	art := fixture(t)

	if code, _ := post(t, srv, "", art); code != http.StatusUnauthorized {
		t.Fatalf("POST without token: %d, want 401", code)
	}
	if code, body := post(t, srv, token, art); code != http.StatusCreated || !strings.Contains(body, `"created": 1`) {
		t.Fatalf("POST fixture: %d %s", code, body)
	}
	build(t, a, "lingling", "xianshiqu", "zhongyao-xinwen")

	var want syndicate.Article
	if err := json.Unmarshal(art, &want); err != nil {
		t.Fatal(err)
	}
	itemID := a.Site.ItemID(want.ID)
	link := a.Site.ArticleURL(&want)

	etags := map[string]string{}
	for _, format := range syndicate.Formats {
		t.Run("feed "+format, func(t *testing.T) {
			url := srv.URL + "/feeds/lingling." + format
			resp := get(t, url)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d", url, resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != syndicate.ContentTypes[format] {
				t.Errorf("Content-Type %q, want %q", ct, syndicate.ContentTypes[format])
			}
			body, _ := io.ReadAll(resp.Body)
			f, err := gofeed.NewParser().ParseString(string(body))
			if err != nil {
				t.Fatalf("gofeed cannot parse %s: %v", format, err)
			}
			if len(f.Items) != 1 {
				t.Fatalf("%d items, want 1", len(f.Items))
			}
			it := f.Items[0]
			if it.Title != want.Title {
				t.Errorf("title %q, want %q", it.Title, want.Title)
			}
			if it.Link != link {
				t.Errorf("link %q, want %q", it.Link, link)
			}
			if it.GUID != itemID {
				t.Errorf("guid %q, want %q", it.GUID, itemID)
			}
			if !strings.Contains(it.Content, "860余名市直党员干部下沉零陵") || !strings.Contains(it.Content, "最终胜利") {
				t.Errorf("full content missing: %.200q", it.Content)
			}
			var authors []string
			for _, p := range it.Authors {
				authors = append(authors, p.Name)
			}
			if it.DublinCoreExt != nil { // RSS: one dc:creator holding every author, "彭沛, 黎俊"
				for _, c := range it.DublinCoreExt.Creator {
					authors = append(authors, strings.Split(c, ", ")...)
				}
			}
			if !slices.Contains(authors, "彭沛") || !slices.Contains(authors, "黎俊") {
				t.Errorf("authors %v, want 彭沛 and 黎俊", authors)
			}
			if it.PublishedParsed == nil || !it.PublishedParsed.Equal(want.PublishedAt) {
				t.Errorf("published %v, want %v", it.PublishedParsed, want.PublishedAt)
			}
			etags[format] = resp.Header.Get("ETag")
			if etags[format] == "" || resp.Header.Get("Last-Modified") == "" {
				t.Errorf("missing validators: ETag %q Last-Modified %q", etags[format], resp.Header.Get("Last-Modified"))
			}

			if r := get(t, url, "If-None-Match", etags[format]); r.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match current ETag: %d, want 304", r.StatusCode)
			}
			if r := get(t, url, "If-Modified-Since", resp.Header.Get("Last-Modified")); r.StatusCode != http.StatusNotModified {
				t.Errorf("If-Modified-Since Last-Modified: %d, want 304", r.StatusCode)
			}
			gz := get(t, url, "Accept-Encoding", "gzip, deflate")
			if gz.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("no gzip with Accept-Encoding: gzip")
			}
			zr, err := gzip.NewReader(gz.Body)
			if err != nil {
				t.Fatal(err)
			}
			unzipped, _ := io.ReadAll(zr)
			if !bytes.Equal(unzipped, body) {
				t.Error("gzip body differs from identity body")
			}
		})
	}

	parent := get(t, srv.URL+"/feeds/xianshiqu.atom")
	pf, err := gofeed.NewParser().Parse(parent.Body)
	if err != nil || len(pf.Items) != 1 || pf.Items[0].GUID != itemID {
		t.Fatalf("县市区 feed does not hold the 零陵 story: %v", err)
	}
	if r := get(t, srv.URL+"/feeds/nowhere.atom"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown channel: %d, want 404", r.StatusCode)
	}

	msgs := streamMessages(t, a)
	checkEvents(t, a, msgs, syndicate.EventPublished, want, itemID)

	// Unchanged rebuild: same bytes, no event.
	build(t, a, "lingling", "xianshiqu", "zhongyao-xinwen")
	if r := get(t, srv.URL+"/feeds/lingling.atom"); r.Header.Get("ETag") != etags[syndicate.FormatAtom] {
		t.Errorf("unchanged rebuild changed the ETag: %q → %q", etags[syndicate.FormatAtom], r.Header.Get("ETag"))
	}
	if n := count(streamMessages(t, a)); n != 2 {
		t.Errorf("unchanged rebuild: %d messages in the stream, want still 2", n)
	}

	// An edit: new ETag, one "updated" event per channel, same item id.
	want.Summary = "更新后的摘要"
	edited, _ := json.Marshal(want)
	if code, body := post(t, srv, token, edited); code != http.StatusOK || !strings.Contains(body, `"updated": 1`) {
		t.Fatalf("POST edit: %d %s", code, body)
	}
	build(t, a, "lingling", "xianshiqu", "zhongyao-xinwen")
	if r := get(t, srv.URL+"/feeds/lingling.atom"); r.Header.Get("ETag") == etags[syndicate.FormatAtom] {
		t.Error("edit did not change the ETag")
	}
	if r := get(t, srv.URL+"/feeds/lingling.atom", "If-None-Match", etags[syndicate.FormatAtom]); r.StatusCode != http.StatusOK {
		t.Errorf("stale ETag: %d, want 200", r.StatusCode)
	}
	msgs = streamMessages(t, a)
	if n := count(msgs); n != 4 {
		t.Fatalf("after edit: %d messages, want 4", n)
	}
	updated := map[string][]syndicate.CloudEvent{}
	for subj, evs := range msgs {
		updated[subj] = evs[1:]
	}
	checkEvents(t, a, updated, syndicate.EventUpdated, want, itemID)
}

func count(m map[string][]syndicate.CloudEvent) int {
	n := 0
	for _, evs := range m {
		n += len(evs)
	}
	return n
}

// checkEvents asserts exactly one event of type typ per channel of the story.
func checkEvents(t *testing.T, a *app.App, msgs map[string][]syndicate.CloudEvent, typ string, want syndicate.Article, itemID string) {
	t.Helper()
	subjects := map[string]string{
		"syndicate.items.xianshiqu.lingling": "lingling",
		"syndicate.items.zhongyao-xinwen":    "zhongyao-xinwen",
	}
	if len(msgs) != len(subjects) {
		t.Errorf("events on subjects %v, want exactly %v", keys(msgs), keys(subjects))
	}
	for subj, slug := range subjects {
		evs := msgs[subj]
		if len(evs) != 1 {
			t.Errorf("%s: %d %s events, want 1", subj, len(evs), typ)
			continue
		}
		ev := evs[0]
		d := ev.Data
		switch {
		case ev.SpecVersion != "1.0", ev.Type != typ, ev.Subject != itemID, ev.Source != a.Site.BaseURL, ev.ID == "":
			t.Errorf("%s: envelope %+v", subj, ev)
		case d.ItemID != itemID, d.ArticleID != want.ID, d.Channel != slug, d.Title != want.Title, d.Summary != want.Summary:
			t.Errorf("%s: data %+v", subj, d)
		case !slices.Equal(d.Authors, want.Authors), !d.PublishedAt.Equal(want.PublishedAt):
			t.Errorf("%s: authors/date %v %v", subj, d.Authors, d.PublishedAt)
		case d.Feeds[syndicate.FormatAtom] != a.Site.FeedURL(slug, syndicate.FormatAtom):
			t.Errorf("%s: feeds %v", subj, d.Feeds)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
