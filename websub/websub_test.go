package websub_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/yongzhou-news/syndicate/websub"
)

type hub struct {
	mu       sync.Mutex
	topics   []string
	failures int // answer 503 this many times first
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failures > 0 {
		h.failures--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if r.FormValue("hub.mode") != "publish" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.topics = append(h.topics, r.FormValue("hub.url"))
	w.WriteHeader(http.StatusNoContent)
}

func TestPublishRetriesUntilTheHubAccepts(t *testing.T) {
	h := &hub{failures: 2}
	srv := httptest.NewServer(h)
	defer srv.Close()
	n := &websub.Notifier{Hubs: []string{srv.URL}, Client: srv.Client(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Retries: 3, Backoff: 5 * time.Millisecond}
	start := time.Now()
	n.Publish("http://localhost:8080/feeds/lingling.atom")
	if time.Since(start) > 50*time.Millisecond {
		t.Error("Publish blocked its caller")
	}
	n.Wait()
	if len(h.topics) != 1 || h.topics[0] != "http://localhost:8080/feeds/lingling.atom" {
		t.Errorf("hub received %v", h.topics)
	}
}
