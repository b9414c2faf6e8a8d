package web

import (
	"context"
	"log/slog"
	"net/http"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/store"
)

// MaxBodyBytes caps an admin API request body.
const MaxBodyBytes = 32 << 20

// postArticles answers POST /api/articles: one JSON object, an array or JSON Lines; each record is
// created or updated by id. A single bad record gives 400 naming its field; in a batch the good
// records are stored and the bad ones listed.
func (s *Server) postArticles(w http.ResponseWriter, r *http.Request) {
	records, err := syndicate.DecodeArticles(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		s.fail(w, r, asInvalid(err))
		return
	}
	rep, err := store.Import(r.Context(), s.store, s.tree, records)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(rep.Channels) > 0 && s.changed != nil {
		s.changed(rep.Channels)
	}
	if len(records) == 1 && len(rep.Rejected) == 1 {
		s.fail(w, r, rep.Rejected[0].Err)
		return
	}
	status := http.StatusOK
	if rep.Created > 0 && rep.Updated == 0 && rep.Unchanged == 0 {
		status = http.StatusCreated
	}
	if len(rep.Rejected) > 0 {
		status = http.StatusBadRequest
		if rep.Created+rep.Updated+rep.Unchanged > 0 {
			status = http.StatusMultiStatus
		}
	}
	writeJSON(w, status, rep)
}

// asInvalid keeps a body read error (too large, cut off) from looking like an internal error.
func asInvalid(err error) error {
	if syndicate.ErrorCode(err) == syndicate.EINTERNAL {
		return syndicate.FieldError("body", "could not be read: %v", err)
	}
	return err
}

func (s *Server) getArticle(w http.ResponseWriter, r *http.Request) {
	a, err := s.store.Article(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) deleteArticle(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	a, err := s.store.Article(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.DeleteArticle(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.changed != nil {
		s.changed(a.Channels)
	}
	w.WriteHeader(http.StatusNoContent)
}

// ready answers /readyz: 503 while the store or NATS does not answer.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	checks := map[string]string{}
	status := http.StatusOK
	for name, check := range s.checks {
		if err := check(ctx); err != nil {
			s.log.Warn("not ready", slog.String("check", name), slog.Any("error", err))
			checks[name] = "unavailable"
			status = http.StatusServiceUnavailable
			continue
		}
		checks[name] = "ok"
	}
	writeJSON(w, status, checks)
}
