package app_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/yongzhou-news/syndicate/app"
	"github.com/yongzhou-news/syndicate/config"
	"github.com/yongzhou-news/syndicate/internal/testwait"
)

// newAppAt starts a service whose site.base_url is the test server's own address, so that the
// hub URL feeds advertise is the one a subscriber can reach.
func newAppAt(t *testing.T, env ...string) (*app.App, *httptest.Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load("", append([]string{
		"SYNDICATE_DATA_DIR=" + t.TempDir(), "SYNDICATE_NATS_LISTEN=", "SYNDICATE_DEMO=false",
		"SYNDICATE_ADMIN_TOKEN=" + token, "SYNDICATE_SITE_BASE_URL=http://" + ln.Addr().String(),
	}, env...))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Web.Handler())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		if err := a.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a, srv
}

// linkRels parses an RFC 8288 Link header into rel → URL.
func linkRels(h string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok {
			continue
		}
		target = strings.Trim(strings.TrimSpace(target), "<>")
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if k == "rel" {
				for _, rel := range strings.Fields(strings.Trim(v, `"`)) {
					out[rel] = target
				}
			}
		}
	}
	return out
}

// A subscriber written from the WebSub Recommendation: it discovers the hub from the feed
// (§4: Link header and <link rel="hub">), subscribes with a secret (§5.1), confirms its intent
// (§5.3), and receives the changed feed, whose signature it checks (§7, §8).
func TestWebSubHubRoundTrip(t *testing.T) {
	a, srv := newAppAt(t, "SYNDICATE_WEBSUB_ALLOW_PRIVATE=true")
	a.Hub.Start() // the one part of Start this test needs running
	if code, _ := post(t, srv, token, fixture(t)); code != 201 {
		t.Fatal("POST fixture")
	}
	build(t, a, "lingling")

	// §4 discovery, from the HTTP Link header and from the document.
	resp := get(t, srv.URL+"/feeds/lingling.atom")
	rels := linkRels(strings.Join(resp.Header.Values("Link"), ", "))
	hubURL, topic := rels["hub"], rels["self"]
	if hubURL != srv.URL+"/websub" || topic != srv.URL+"/feeds/lingling.atom" {
		t.Fatalf("Link header: hub %q self %q", hubURL, topic)
	}
	var doc struct {
		Links []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
	}
	body, _ := io.ReadAll(resp.Body)
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	inDoc := map[string]string{}
	for _, l := range doc.Links {
		inDoc[l.Rel] = l.Href
	}
	if inDoc["hub"] != hubURL || inDoc["self"] != topic {
		t.Fatalf("document links %v; want hub %s and self %s", inDoc, hubURL, topic)
	}
	page := get(t, srv.URL+"/channels/lingling")
	pageBody, _ := io.ReadAll(page.Body)
	if !strings.Contains(string(pageBody), `<link rel="hub" href="`+hubURL+`">`) {
		t.Error(`channel page lacks <link rel="hub">`)
	}

	const secret = "a secret only the subscriber and the hub know"
	var mu sync.Mutex
	var verified url.Values
	pushed := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	callback := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet: // §5.3: confirm only what we asked for
			q := r.URL.Query()
			if q.Get("hub.mode") != "subscribe" || q.Get("hub.topic") != topic {
				http.NotFound(w, r)
				return
			}
			mu.Lock()
			verified = q
			mu.Unlock()
			io.WriteString(w, q.Get("hub.challenge"))
		case http.MethodPost:
			b, _ := io.ReadAll(r.Body)
			pushed <- r
			bodies <- b
		}
	}))
	defer callback.Close()

	form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.callback": {callback.URL + "/push?feed=lingling"},
		"hub.secret": {secret}, "hub.lease_seconds": {"86400"}}
	r, err := http.PostForm(hubURL, form)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusAccepted {
		t.Fatalf("subscribe: %s", r.Status)
	}
	testwait.For(t, "the subscription is listed", func() bool {
		resp := get(t, srv.URL+"/api/websub/subscriptions", "Authorization", "Bearer "+token)
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && strings.Contains(string(b), callback.URL+"/push?feed=lingling")
	})
	mu.Lock()
	if verified.Get("hub.lease_seconds") != "86400" || verified.Get("feed") != "lingling" {
		t.Errorf("verification %v", verified)
	}
	mu.Unlock()
	if resp := get(t, srv.URL+"/api/websub/subscriptions"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("subscriptions without a token: %d", resp.StatusCode)
	}

	// A change to the article: the build pushes the new feed.
	changed := bytes.Replace(fixture(t), []byte(`"title": "汇聚`), []byte(`"title": "更新：汇聚`), 1)
	if code, body := post(t, srv, token, changed); code != 200 && code != 201 {
		t.Fatalf("POST changed article: %d %s", code, body)
	}
	build(t, a, "lingling")
	// The feed as it was before the change may come first: the hub gathers changes for a moment
	// before it queues them, and the subscription can be saved meanwhile, so the first build's
	// document may reach it too.
	var req *http.Request
	var got []byte
	deliveries := 0
	for deadline := time.After(10 * time.Second); req == nil; {
		select {
		case r := <-pushed:
			b := <-bodies
			deliveries++
			if bytes.Contains(b, []byte("更新：汇聚")) {
				req, got = r, b
			}
		case <-deadline:
			t.Fatal("no content distribution of the changed feed")
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(got)
	if sig := req.Header.Get("X-Hub-Signature"); !hmac.Equal([]byte(sig), []byte("sha256="+hex.EncodeToString(mac.Sum(nil)))) {
		t.Errorf("X-Hub-Signature %q does not match the body", sig)
	}
	if l := linkRels(req.Header.Get("Link")); l["hub"] != hubURL || l["self"] != topic {
		t.Errorf("distribution Link %q", req.Header.Get("Link"))
	}
	if !strings.HasPrefix(req.Header.Get("Content-Type"), "application/atom+xml") {
		t.Errorf("Content-Type %q", req.Header.Get("Content-Type"))
	}
	f, err := gofeed.NewParser().Parse(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Items) == 0 || !strings.HasPrefix(f.Items[0].Title, "更新：") {
		t.Errorf("pushed feed's first item: %+v", f.Items)
	}
	live := get(t, srv.URL+"/feeds/lingling.atom")
	liveBody, _ := io.ReadAll(live.Body)
	if !bytes.Equal(liveBody, got) {
		t.Error("the pushed document is not the one served")
	}

	// The outcome is recorded once the callback has answered: the callback having the body is
	// no sign that it is counted yet.
	// A failed wait logs what was still missing, once per change, not once per poll.
	var said string
	testwait.For(t, "the delivery's series in /metrics", func() bool {
		metrics := get(t, srv.URL+"/metrics")
		mb, _ := io.ReadAll(metrics.Body)
		metrics.Body.Close()
		var lacks []string
		for _, want := range []string{
			`syndicate_websub_hub_subscriptions{topic="` + topic + `"} 1`,
			`syndicate_websub_hub_notifications_total{hub="` + hubURL + `#lane-`,
			"syndicate_websub_hub_queue_depth",
			fmt.Sprint("syndicate_websub_hub_delivery_latency_seconds_count ", deliveries),
		} {
			if !strings.Contains(string(mb), want) {
				lacks = append(lacks, want)
			}
		}
		if now := strings.Join(lacks, ", "); now != said && now != "" {
			t.Logf("/metrics lacks %s", now)
			said = now
		}
		return len(lacks) == 0
	})
}

// With websub.builtin off there is no hub: nothing served at /websub, nothing advertised.
func TestWebSubHubOff(t *testing.T) {
	a, srv := newAppAt(t, "SYNDICATE_WEBSUB_BUILTIN=false")
	if a.Hub != nil {
		t.Fatal("hub built")
	}
	if code, _ := post(t, srv, token, fixture(t)); code != 201 {
		t.Fatal("POST fixture")
	}
	build(t, a, "lingling")
	resp := get(t, srv.URL+"/feeds/lingling.atom")
	body, _ := io.ReadAll(resp.Body)
	if strings.Contains(resp.Header.Get("Link"), `rel="hub"`) || strings.Contains(string(body), `rel="hub"`) {
		t.Errorf("a hub is advertised: %q", resp.Header.Get("Link"))
	}
	r, err := http.PostForm(srv.URL+"/websub", url.Values{"hub.mode": {"subscribe"}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound && r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /websub: %s", r.Status)
	}
}
