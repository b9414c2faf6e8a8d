package ingest_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/yongzhou-news/syndicate/ingest"
)

func itemWithGUID(guid string) *gofeed.Item { return &gofeed.Item{GUID: guid} }

// rssOf wraps items in an RSS document.
func rssOf(items ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>上游</title><link>http://up.example/</link><description>d</description>` +
		strings.Join(items, "") + `</channel></rss>`
}

func serveString(body *string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, *body)
	}))
}

func TestImplausibleDates(t *testing.T) {
	body := rssOf(
		`<item><title>好</title><guid>good</guid><pubDate>Wed, 16 Nov 2022 08:00:00 +0800</pubDate></item>`,
		// 10000-01-01 in UTC: encoding/json cannot marshal it, which used to panic every poll. It
		// is outside the plausible range (syndicate.LatestDate), so it counts as no date.
		`<item><title>万年</title><guid>y9999</guid><pubDate>Fri, 31 Dec 9999 23:59:59 -0500</pubDate></item>`,
		`<item><title>千年</title><guid>y3000</guid><pubDate>Wed, 01 Jan 3000 00:00:00 +0000</pubDate></item>`,
		`<item><title>明天之后</title><guid>soon</guid><pubDate>Mon, 30 Nov 2026 02:00:00 +0000</pubDate></item>`,
		`<item><title>古</title><guid>y1800</guid><pubDate>Wed, 01 Jan 1800 00:00:00 +0000</pubDate></item>`,
		`<item><title>乱</title><guid>garbage</guid><pubDate>next tuesday-ish</pubDate></item>`,
		`<item><title>无</title><guid>none</guid></item>`,
	)
	srv := serveString(&body)
	defer srv.Close()
	p, st := newPoller(t)
	var logs bytes.Buffer
	p.Log = slog.New(slog.NewTextHandler(&logs, nil))
	fetch := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	now := fetch
	p.Now = func() time.Time { return now }
	src := ingest.Source{Name: "up", URL: srv.URL, Channels: []string{"lingling"}}
	ctx := context.Background()

	res, err := p.Poll(ctx, src)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	if res.Created != 7 || res.Rejected != 0 || res.FutureDated != 1 || res.Undated != 4 {
		t.Errorf("result %+v; want 7 created, 1 future-dated, 4 undated", res)
	}
	if !strings.Contains(logs.String(), "future_dated=1") || !strings.Contains(logs.String(), "undated=4") {
		t.Errorf("log does not record the date fixes:\n%s", logs.String())
	}
	for _, tc := range []struct {
		guid string
		want time.Time
	}{
		{"good", time.Date(2022, 11, 16, 0, 0, 0, 0, time.UTC)},
		{"y9999", fetch},
		{"y3000", fetch},
		{"soon", time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)}, // within the 24h horizon
		{"y1800", fetch},
		{"garbage", fetch},
		{"none", fetch},
	} {
		a, err := st.Article(ctx, ingest.ArticleID("up", itemWithGUID(tc.guid)))
		if err != nil {
			t.Errorf("%s: %v", tc.guid, err)
			continue
		}
		if !a.PublishedAt.Equal(tc.want) || a.UpdatedAt.Before(a.PublishedAt) {
			t.Errorf("%s: published %s updated %s; want published %s", tc.guid, a.PublishedAt, a.UpdatedAt, tc.want)
		}
	}

	// Clamped and undated items keep the date they were first given: a later poll (the server
	// sends no validators, so every poll fetches) is no edit.
	now = fetch.Add(time.Hour)
	res, err = p.Poll(ctx, src)
	if err != nil || res.Unchanged != 7 || res.Created+res.Updated != 0 {
		t.Fatalf("second poll: %+v, %v; want 7 unchanged", res, err)
	}
}
