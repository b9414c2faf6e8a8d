package web

import (
	"encoding/json"
	"errors"
	"net/http"

	syndicate "github.com/yongzhou-news/syndicate"
	"github.com/yongzhou-news/syndicate/schedule"
)

// Jobs is what the jobs API controls: the scheduler, with changes persisted by the caller.
type Jobs interface {
	Names() []string
	Status(name string) (schedule.Status, error)
	Reschedule(r *http.Request, name, spec string) error
	SetPaused(r *http.Request, name string, paused bool) error
	RunNow(r *http.Request, name string) (schedule.Run, error)
}

func (s *Server) jobRoutes() {
	s.mux.HandleFunc("GET /api/jobs", s.requireAdmin(s.listJobs))
	s.mux.HandleFunc("GET /api/jobs/{name}", s.requireAdmin(s.getJob))
	s.mux.HandleFunc("PUT /api/jobs/{name}", s.requireAdmin(s.putJob))
	s.mux.HandleFunc("POST /api/jobs/{name}/pause", s.requireAdmin(s.pauseJob(true)))
	s.mux.HandleFunc("POST /api/jobs/{name}/resume", s.requireAdmin(s.pauseJob(false)))
	s.mux.HandleFunc("POST /api/jobs/{name}/run", s.requireAdmin(s.runJob))
}

// jobError turns scheduler errors into coded errors.
func jobError(err error) error {
	switch {
	case errors.Is(err, schedule.ErrUnknownJob):
		return syndicate.Errorf(syndicate.ENOTFOUND, "%v", err)
	case errors.Is(err, schedule.ErrBusy):
		return syndicate.Errorf(syndicate.ECONFLICT, "%v", err)
	}
	return err
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) {
	out := []schedule.Status{}
	for _, n := range s.jobs.Names() {
		st, err := s.jobs.Status(n)
		if err != nil {
			s.fail(w, r, jobError(err))
			return
		}
		out = append(out, st)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	st, err := s.jobs.Status(r.PathValue("name"))
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
	if _, err := s.jobs.Status(name); err != nil {
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

// runJob runs the job now and answers with the run; 409 while a run is in progress.
func (s *Server) runJob(w http.ResponseWriter, r *http.Request) {
	run, err := s.jobs.RunNow(r, r.PathValue("name"))
	if err != nil {
		s.fail(w, r, jobError(err))
		return
	}
	writeJSON(w, http.StatusOK, run)
}
