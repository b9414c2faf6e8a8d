package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/schedule"
)

// Jobs is what the jobs API controls: the scheduler, with changes persisted by the caller. Run
// history comes from the store: every replica answers with every replica's runs, and their times
// carry the offset of the job's zone.
type Jobs interface {
	// List returns every job, sorted by name, each with its newest runs.
	List(ctx context.Context) ([]schedule.Status, error)
	// Status returns one job with every run kept.
	Status(ctx context.Context, name string) (schedule.Status, error)
	Reschedule(r *http.Request, name, spec string) error
	SetPaused(r *http.Request, name string, paused bool) error
	// StartRun starts a run of the job now and returns it (status running) with a channel that
	// receives its outcome; the run goes on when the request ends.
	StartRun(r *http.Request, name string) (schedule.Run, <-chan schedule.Run, error)
	// Run returns a job's run, running or finished, by id.
	Run(ctx context.Context, name, id string) (schedule.Run, error)
}

// MaxRunWait bounds POST /api/jobs/{name}/run?wait=: below the server's write timeout
// (writeTimeout), so that a waiting answer is never cut off; a longer wait is shortened to it.
const MaxRunWait = 50 * time.Second

func (s *Server) jobRoutes() {
	s.mux.HandleFunc("GET /api/jobs", s.requireAdmin(s.listJobs))
	s.mux.HandleFunc("GET /api/jobs/{name}", s.requireAdmin(s.getJob))
	s.mux.HandleFunc("PUT /api/jobs/{name}", s.requireAdmin(s.putJob))
	s.mux.HandleFunc("POST /api/jobs/{name}/pause", s.requireAdmin(s.pauseJob(true)))
	s.mux.HandleFunc("POST /api/jobs/{name}/resume", s.requireAdmin(s.pauseJob(false)))
	s.mux.HandleFunc("POST /api/jobs/{name}/run", s.requireAdmin(s.runJob))
	s.mux.HandleFunc("GET /api/jobs/{name}/runs/{id}", s.requireAdmin(s.getRun))
}

// jobError turns scheduler errors into coded errors.
func jobError(err error) error {
	switch {
	case errors.Is(err, schedule.ErrUnknownJob), errors.Is(err, schedule.ErrUnknownRun):
		return syndicate.Errorf(syndicate.ENOTFOUND, "%v", err)
	case errors.Is(err, schedule.ErrBusy):
		return syndicate.Errorf(syndicate.ECONFLICT, "%v", err)
	}
	return err
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	out, err := s.jobs.List(r.Context())
	if err != nil {
		s.fail(w, r, jobError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	st, err := s.jobs.Status(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, jobError(err))
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// putJob changes a job's schedule. An invalid spec is a 400 with the parser's message and the old
// schedule keeps running.
func (s *Server) putJob(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := s.jobs.Status(r.Context(), name); err != nil {
		s.fail(w, r, jobError(err))
		return
	}
	var body struct {
		Schedule string `json:"schedule"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		s.fail(w, r, syndicate.FieldError("body", `must be {"schedule": "<cron spec>"}: %v`, err))
		return
	}
	if _, err := dec.Token(); err != io.EOF { // a second object: which schedule was meant?
		s.fail(w, r, syndicate.FieldError("body", `must be one {"schedule": "<cron spec>"} and nothing after it`))
		return
	}
	if _, err := schedule.ParseSpec(body.Schedule, s.site.Timezone); err != nil {
		s.fail(w, r, syndicate.FieldError("schedule", "%v", err))
		return
	}
	if err := s.jobs.Reschedule(r, name, body.Schedule); err != nil {
		s.fail(w, r, jobError(err))
		return
	}
	s.getJob(w, r)
}

func (s *Server) pauseJob(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.jobs.SetPaused(r, r.PathValue("name"), paused); err != nil {
			s.fail(w, r, jobError(err))
			return
		}
		s.getJob(w, r)
	}
}

// runAnswer is a run with where to read it again.
type runAnswer struct {
	schedule.Run
	Job string `json:"job"`
	URL string `json:"url"` // GET it for the run's state and outcome
}

func runURL(job, id string) string {
	return "/api/jobs/" + url.PathEscape(job) + "/runs/" + url.PathEscape(id)
}

// runJob starts a run of the job and answers 202 Accepted with it at once, or, with
// ?wait=<duration> (at most MaxRunWait), 200 with its outcome if it ends by then and 202
// otherwise. A long run (a large upstream, a big channel) thus never meets the write timeout.
// 409 while a run is in progress.
func (s *Server) runJob(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := parseWait(v)
		if err != nil {
			s.fail(w, r, syndicate.FieldError("wait", "must be a duration such as 30s, at most %s: %v", MaxRunWait, err))
			return
		}
		wait = min(d, MaxRunWait)
	}
	run, done, err := s.jobs.StartRun(r, name)
	if err != nil {
		s.fail(w, r, jobError(err))
		return
	}
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case out := <-done:
			writeJSON(w, http.StatusOK, runAnswer{Run: out, Job: name, URL: runURL(name, out.ID)})
			return
		case <-t.C:
		case <-r.Context().Done():
			return // the client left; the run goes on
		}
		if cur, err := s.jobs.Run(r.Context(), name, run.ID); err == nil {
			run = cur
		}
	}
	u := runURL(name, run.ID)
	w.Header().Set("Location", u)
	writeJSON(w, http.StatusAccepted, runAnswer{Run: run, Job: name, URL: u})
}

// parseWait reads a Go duration ("30s", "1m"), or a bare number of seconds.
func parseWait(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseFloat(v, 64)
		if nerr != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return 0, err
		}
		if n >= MaxRunWait.Seconds() { // before converting: past ~292 years the Duration overflows
			return MaxRunWait, nil
		}
		d = time.Duration(n * float64(time.Second))
	}
	if d < 0 {
		return 0, errors.New("negative")
	}
	return d, nil
}

// getRun answers a run by id: running, or finished with its outcome.
func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	name, id := r.PathValue("name"), r.PathValue("id")
	run, err := s.jobs.Run(r.Context(), name, id)
	if err != nil {
		s.fail(w, r, jobError(err))
		return
	}
	writeJSON(w, http.StatusOK, runAnswer{Run: run, Job: name, URL: runURL(name, id)})
}
