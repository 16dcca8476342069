package cde

import (
	"io"
	"net/http"
	"strconv"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/jobs"
	"github.com/herdhq/herd/internal/listquery"
)

func (a *JobsAPI) runJob(w http.ResponseWriter, r *http.Request) {
	var in RunInput
	if err := a.json.DecodeOptional(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	run, err := a.jobs.RunJob(r.Context(), principal(r), vcOf(r), r.PathValue("name"), in.domain())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, RunID{ID: run.ID})
}

func (a *JobsAPI) listRuns(w http.ResponseWriter, r *http.Request) {
	list, page, err := a.jobs.ListRuns(r.Context(), vcOf(r), listquery.DecodeQuery(r.URL.RawQuery))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := RunList{Runs: make([]Run, len(list)), Meta: wireMeta(page)}
	for i, run := range list {
		out.Runs[i] = wireRun(run)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// runID reads the {id} of a run path; a malformed one is a run that does
// not exist.
func runID(r *http.Request) (int64, error) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return 0, apperr.New(apperr.NotFound, "run %q not found: run ids are positive integers", raw)
	}
	return id, nil
}

func (a *JobsAPI) getRun(w http.ResponseWriter, r *http.Request) {
	id, err := runID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	run, err := a.jobs.GetRun(r.Context(), vcOf(r), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireRun(run))
}

func (a *JobsAPI) killRun(w http.ResponseWriter, r *http.Request) {
	id, err := runID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	run, err := a.jobs.KillRun(r.Context(), principal(r), vcOf(r), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireRun(run))
}

// runLogs streams one log of a run as plain text: what it holds now, for a
// live run.
func (a *JobsAPI) runLogs(w http.ResponseWriter, r *http.Request) {
	id, err := runID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	typ := listquery.DecodeQuery(r.URL.RawQuery).Get("type")
	if typ == "" {
		typ = "driver/stderr"
	}
	rc, err := a.jobs.OpenLog(r.Context(), vcOf(r), id, typ)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, rc) // a client that goes away ends the copy
}

func (a *JobsAPI) logTypes(w http.ResponseWriter, r *http.Request) {
	id, err := runID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	types, err := a.jobs.LogTypes(r.Context(), vcOf(r), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]LogType, len(types))
	for i, t := range types {
		out[i] = LogType{Type: t}
	}
	httpjson.Write(w, http.StatusOK, out)
}

// buildLog serves the log of a python-env's last build, or, for another
// resource type, its file named build-log.
func (a *JobsAPI) buildLog(w http.ResponseWriter, r *http.Request) {
	res, err := a.jobs.GetResource(r.Context(), vcOf(r), r.PathValue("name"), false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res.Type != jobs.ResourcePythonEnv {
		r.SetPathValue("path", "build-log")
		a.getFile(w, r)
		return
	}
	b, err := a.jobs.BuildLog(r.Context(), vcOf(r), res.Name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}
