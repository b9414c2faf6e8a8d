package web

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/ingest"
)

// MaxBodyBytes caps an admin API request body.
const MaxBodyBytes = 32 << 20

// postArticles answers POST /api/articles: one JSON object, an array or JSON Lines; each record is
// created or updated by id. A single bad record gives 400 naming its field; in a batch the good
// records are stored and the bad ones listed (207), the first Limits.MaxRejections of them, so the
// answer stays small whatever the body holds. The body is read one record at a time and stored in
// batches (ingest.ImportRecords), so a large body costs few transactions and little memory.
func (s *Server) postArticles(w http.ResponseWriter, r *http.Request) {
	if err := checkArticlesType(r.Header.Get("Content-Type")); err != nil {
		s.fail(w, r, err)
		return
	}
	dec := syndicate.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes), s.limits)
	im := ingest.Importer{Store: s.store, Tree: s.tree, Limits: s.limits, BatchSize: s.batch}
	rep, err := im.Import(r.Context(), dec.Records())
	if len(rep.Channels) > 0 && s.changed != nil {
		s.changed(rep.Channels)
	}
	for _, rj := range rep.Rejected {
		if syndicate.ErrorCode(rj.Err) == syndicate.EINTERNAL {
			s.log.Error("record not stored", slog.String("request_id", requestID(r)), slog.Int("index", rj.Index),
				slog.String("id", rj.ID), slog.Any("error", rj.Err))
		}
	}
	if err != nil {
		s.log.Error("import stopped", slog.String("request_id", requestID(r)), slog.Any("error", err))
		writeJSON(w, http.StatusServiceUnavailable, rep)
		return
	}
	if derr := dec.Err(); derr != nil {
		if rep.Records == 0 || rep.Records == 1 && rep.RejectedCount == 1 {
			s.fail(w, r, derr)
			return
		}
		rep.Error = syndicate.ErrorMessage(derr)
	}
	if rep.Records == 1 && rep.RejectedCount == 1 {
		s.fail(w, r, rep.Rejected[0].Err)
		return
	}
	status := http.StatusOK
	if rep.Created > 0 && rep.Updated == 0 && rep.Unchanged == 0 {
		status = http.StatusCreated
	}
	if rep.RejectedCount > 0 || rep.Error != "" {
		status = http.StatusBadRequest
		if rep.Created+rep.Updated+rep.Unchanged > 0 {
			status = http.StatusMultiStatus
		}
	}
	writeJSON(w, status, rep)
}

// articleTypes are the media types POST /api/articles reads. A request without a Content-Type
// is read as JSON, so that `curl --data-binary @file` works as it is typed.
var articleTypes = []string{"application/json", "application/*+json", "application/jsonl", "application/x-ndjson", "application/x-jsonlines"}

// checkArticlesType refuses a body whose declared type is not JSON or JSON Lines (a form post,
// say, which curl -d sends by default), or whose charset is not UTF-8 (RFC 8259 §8.1).
func checkArticlesType(header string) error {
	if header == "" {
		return nil
	}
	unsupported := &syndicate.Error{Code: syndicate.EUNSUPPORTED, Field: "Content-Type",
		Message: fmt.Sprintf("%q is not read here; send one of %s (UTF-8)", truncateHeader(header), strings.Join(articleTypes, ", "))}
	mt, params, err := mime.ParseMediaType(header)
	if err != nil {
		return unsupported
	}
	if cs, ok := params["charset"]; ok && !utf8Charset(cs) {
		return unsupported
	}
	// articleTypes' one pattern, application/*+json, is matched by the suffix test.
	if slices.Contains(articleTypes, mt) || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json") {
		return nil
	}
	return unsupported
}

// truncateHeader keeps an echoed header short, cut between characters, never inside one.
func truncateHeader(h string) string { return syndicate.Shorten(h, 100) }

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

// utf8Charset reports whether a charset parameter names UTF-8, or US-ASCII, which is a subset of
// it (RFC 8259 §8.1: JSON is UTF-8; clients still say so in several spellings).
func utf8Charset(cs string) bool {
	switch strings.ToLower(strings.TrimSpace(cs)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return true
	}
	return false
}
