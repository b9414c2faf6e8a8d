package web

import (
	"context"
	"net/http"
	"time"

	"github.com/yongzhou-news/syndicate/store"
)

// Hub is the built-in WebSub hub (package hub), served when configured (websub.builtin).
type Hub interface {
	// ServeHTTP is the hub endpoint, POST /websub (W3C WebSub §5.1).
	http.Handler
	// Subscriptions lists the subscriptions whose lease has not run out.
	Subscriptions(ctx context.Context) ([]store.Subscription, error)
}

func (s *Server) websubRoutes() {
	s.mux.Handle("POST /websub", s.hub)
	s.mux.HandleFunc("GET /api/websub/subscriptions", s.requireAdmin(s.listSubscriptions))
}

// subscriptionView is a subscription as operators see it: never its secret.
type subscriptionView struct {
	ID           int64     `json:"id"`
	Topic        string    `json:"topic"`
	Callback     string    `json:"callback"`
	Signed       bool      `json:"signed"`
	LeaseSeconds int       `json:"lease_seconds"`
	ExpiresAt    time.Time `json:"expires_at"`
	CreatedAt    time.Time `json:"created_at"`
	RenewedAt    time.Time `json:"renewed_at"`
}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	subs, err := s.hub.Subscriptions(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]subscriptionView, 0, len(subs))
	for _, sb := range subs {
		out = append(out, subscriptionView{ID: sb.ID, Topic: sb.Topic, Callback: sb.Callback, Signed: sb.Secret != "",
			LeaseSeconds: sb.LeaseSeconds, ExpiresAt: sb.ExpiresAt, CreatedAt: sb.CreatedAt, RenewedAt: sb.RenewedAt})
	}
	writeJSON(w, http.StatusOK, map[string]any{"subscriptions": out})
}
