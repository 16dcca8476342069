package cde

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/jobs"
	"github.com/herdhq/herd/internal/listquery"
)

// Prefix is where the jobs API is served. The virtual cluster is the one
// the request's host names (see jobs.Service.VirtualClusterOfHost).
const Prefix = "/dex/api/v1"

// JobsAPI serves a virtual cluster's jobs API: jobs, resources,
// credentials and /info.
type JobsAPI struct {
	jobs      *jobs.Service
	auth      *auth.Service
	version   string
	maxUpload int64
	json      httpjson.Decoder
	fail      func(http.ResponseWriter, *http.Request, error)
	routes    []string
}

// Options configure the jobs API.
type Options struct {
	MaxBodyBytes   int64  // largest JSON body
	MaxUploadBytes int64  // largest resource file
	Version        string // reported by /info
}

// NewJobsAPI returns the jobs API of the virtual clusters.
func NewJobsAPI(j *jobs.Service, a *auth.Service, log *slog.Logger, o Options) *JobsAPI {
	return &JobsAPI{
		jobs: j, auth: a, version: o.Version, maxUpload: o.MaxUploadBytes,
		json: httpjson.Decoder{MaxBytes: o.MaxBodyBytes, AllowUnknown: true},
		fail: errorWriter(log),
	}
}

// Register adds the routes to mux.
func (a *JobsAPI) Register(mux *http.ServeMux) {
	guard := a.auth.Require(auth.Guard{Schemes: auth.Bearer, Service: "cde", Fail: a.fail})
	handle := func(method, path string, h http.HandlerFunc) {
		a.routes = append(a.routes, method+" "+path)
		mux.Handle(method+" "+Prefix+path, guard(a.inVC(h)))
	}
	handle(http.MethodGet, "/info", a.info)

	handle(http.MethodGet, "/jobs", a.listJobs)
	handle(http.MethodPost, "/jobs", a.createJob)
	handle(http.MethodGet, "/jobs/{name}", a.getJob)
	handle(http.MethodPatch, "/jobs/{name}", a.patchJob)
	handle(http.MethodDelete, "/jobs/{name}", a.deleteJob)
	handle(http.MethodPost, "/jobs/{name}/schedule/pause", a.pause(true))
	handle(http.MethodPost, "/jobs/{name}/schedule/unpause", a.pause(false))
	handle(http.MethodPost, "/jobs/schedule/pause-all", a.pauseAll(true))
	handle(http.MethodPost, "/jobs/schedule/unpause-all", a.pauseAll(false))
	handle(http.MethodPost, "/jobs/{name}/run", a.runJob)

	handle(http.MethodGet, "/job-runs", a.listRuns)
	handle(http.MethodGet, "/job-runs/{id}", a.getRun)
	handle(http.MethodPost, "/job-runs/{id}/kill", a.killRun)
	handle(http.MethodGet, "/job-runs/{id}/logs", a.runLogs)
	handle(http.MethodGet, "/job-runs/{id}/log-types", a.logTypes)

	handle(http.MethodGet, "/resources", a.listResources)
	handle(http.MethodPost, "/resources", a.createResource)
	handle(http.MethodGet, "/resources/{name}", a.getResource)
	handle(http.MethodDelete, "/resources/{name}", a.deleteResource)
	// A python-env holds only requirements.txt, so build-log is free there;
	// for other resources this is the file of that name.
	handle(http.MethodGet, "/resources/{name}/build-log", a.buildLog)
	handle(http.MethodPut, "/resources/{name}/{path...}", a.putFile)
	handle(http.MethodGet, "/resources/{name}/{path...}", a.getFile)
	handle(http.MethodDelete, "/resources/{name}/{path...}", a.deleteFile)
	// Cloudera's "Creating a resource" page shows <jobs_api_url>/<resource>
	// for reading and deleting a resource; serve that spelling too, but
	// never for a name that is a path of the API itself.
	handle(http.MethodGet, "/{name}", a.alias(a.getResource))
	handle(http.MethodDelete, "/{name}", a.alias(a.deleteResource))

	handle(http.MethodGet, "/credentials", a.listCredentials)
	handle(http.MethodPost, "/credentials", a.createCredential)
	handle(http.MethodGet, "/credentials/{name}", a.getCredential)
	handle(http.MethodPatch, "/credentials/{name}", a.patchCredential)
	handle(http.MethodDelete, "/credentials/{name}", a.deleteCredential)
}

// Routes lists the registered routes as "METHOD /path" relative to the
// prefix, for the OpenAPI coverage test.
func (a *JobsAPI) Routes() []string { return slices.Clone(a.routes) }

// reserved are the first path segments the jobs API uses or will use; the
// /{name} alias never treats them as resource names.
var reserved = []string{"info", "jobs", "job-runs", "resources", "credentials", "repositories", "admin", "docs", "openapi.yaml"}

// alias guards the /{name} spelling of /resources/{name}: for a reserved
// name, it answers as for a path that does not exist (405 with the methods
// that do, or 404), so that DELETE /jobs never deletes a resource "jobs".
func (a *JobsAPI) alias(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if !slices.Contains(reserved, name) {
			next(w, r)
			return
		}
		var allow []string
		for _, route := range a.routes {
			if method, path, _ := strings.Cut(route, " "); path == "/"+name {
				allow = append(allow, method)
			}
		}
		if len(allow) == 0 {
			a.fail(w, r, apperr.New(apperr.NotFound, "no endpoint %s %s", r.Method, r.URL.Path))
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		httpjson.Write(w, http.StatusMethodNotAllowed, Error{Status: http.StatusMethodNotAllowed,
			Message: fmt.Sprintf("method %s is not allowed on %s; use %s", r.Method, r.URL.Path, strings.Join(allow, " or "))})
	}
}

type vcKey struct{}

// inVC finds the virtual cluster the request's host names and hands it to
// next in the request's context.
func (a *JobsAPI) inVC(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		vc, err := a.jobs.VirtualClusterOfHost(r.Context(), r.Host)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), vcKey{}, vc)))
	})
}

// vcOf is the virtual cluster of a request that went through inVC.
func vcOf(r *http.Request) string {
	vc, _ := r.Context().Value(vcKey{}).(string)
	return vc
}

func principal(r *http.Request) auth.Principal {
	p, _ := auth.PrincipalFrom(r.Context())
	return p
}

func (a *JobsAPI) info(w http.ResponseWriter, r *http.Request) {
	vc, err := a.jobs.VirtualCluster(r.Context(), vcOf(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, Info{AppName: vc.Name, AppID: vc.ID, ClusterID: vc.ID, Version: a.version})
}

func (a *JobsAPI) listJobs(w http.ResponseWriter, r *http.Request) {
	list, page, err := a.jobs.ListJobs(r.Context(), vcOf(r), listquery.DecodeQuery(r.URL.RawQuery))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := JobList{Jobs: make([]Job, len(list)), Meta: wireMeta(page)}
	for i, j := range list {
		out.Jobs[i] = wireJob(j)
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (a *JobsAPI) createJob(w http.ResponseWriter, r *http.Request) {
	var d jobs.Definition
	if err := a.json.Decode(w, r, &d); err != nil {
		a.fail(w, r, err)
		return
	}
	j, err := a.jobs.CreateJob(r.Context(), principal(r), vcOf(r), d)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, wireJob(j))
}

func (a *JobsAPI) getJob(w http.ResponseWriter, r *http.Request) {
	j, err := a.jobs.GetJob(r.Context(), vcOf(r), r.PathValue("name"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireJob(j))
}

func (a *JobsAPI) patchJob(w http.ResponseWriter, r *http.Request) {
	var patch map[string]json.RawMessage
	if err := a.json.Decode(w, r, &patch); err != nil {
		a.fail(w, r, err)
		return
	}
	raw, _ := json.Marshal(patch) //nolint:errchkjson // raw messages always marshal
	j, err := a.jobs.PatchJob(r.Context(), principal(r), vcOf(r), r.PathValue("name"), raw)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireJob(j))
}

func (a *JobsAPI) deleteJob(w http.ResponseWriter, r *http.Request) {
	if err := a.jobs.DeleteJob(r.Context(), principal(r), vcOf(r), r.PathValue("name")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *JobsAPI) pause(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.jobs.SetPaused(r.Context(), principal(r), vcOf(r), r.PathValue("name"), paused); err != nil {
			a.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (a *JobsAPI) pauseAll(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.jobs.SetPausedAll(r.Context(), principal(r), vcOf(r), paused); err != nil {
			a.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (a *JobsAPI) listResources(w http.ResponseWriter, r *http.Request) {
	withFiles, err := boolParam(r, "includeFiles", false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	list, page, err := a.jobs.ListResources(r.Context(), vcOf(r), listquery.DecodeQuery(r.URL.RawQuery), withFiles)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := ResourceList{Resources: make([]Resource, len(list)), Meta: wireMeta(page)}
	for i, res := range list {
		out.Resources[i] = wireResource(res)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// boolParam reads an optional true/false query parameter, as the list
// parameters are read: true or false in any letter case.
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	switch v := listquery.DecodeQuery(r.URL.RawQuery).Get(name); {
	case v == "":
		return def, nil
	case strings.EqualFold(v, "false"):
		return false, nil
	case strings.EqualFold(v, "true"):
		return true, nil
	default:
		return false, apperr.New(apperr.Invalid, "%s %q: want true or false", name, v)
	}
}

func (a *JobsAPI) createResource(w http.ResponseWriter, r *http.Request) {
	var in ResourceInput
	if err := a.json.Decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := a.jobs.CreateResource(r.Context(), principal(r), vcOf(r), in.domain())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, wireResource(res))
}

func (a *JobsAPI) getResource(w http.ResponseWriter, r *http.Request) {
	withFiles, err := boolParam(r, "includeFiles", true)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	res, err := a.jobs.GetResource(r.Context(), vcOf(r), r.PathValue("name"), withFiles)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireResource(res))
}

func (a *JobsAPI) deleteResource(w http.ResponseWriter, r *http.Request) {
	if err := a.jobs.DeleteResource(r.Context(), principal(r), vcOf(r), r.PathValue("name")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// multipartSlack is what an upload may carry beyond its file: boundaries,
// part headers, small extra fields.
const multipartSlack = 1 << 20

// putFile takes a multipart/form-data upload whose part named "file" holds
// the bytes; the file's path is the URL's, not the part's file name. The
// part is streamed to disk as it arrives.
func (a *JobsAPI) putFile(w http.ResponseWriter, r *http.Request) {
	if _, err := jobs.CleanFilePath(r.PathValue("path")); err != nil {
		a.fail(w, r, err)
		return
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/form-data" {
		a.fail(w, r, apperr.New(apperr.Invalid, "upload the file as multipart/form-data with a part named file (curl -F file=@local-file)"))
		return
	}
	// The file part is limited by the service; this bounds the whole body,
	// parts that are skipped included.
	r.Body = http.MaxBytesReader(w, r.Body, a.maxUpload+multipartSlack)
	mr, err := r.MultipartReader()
	if err != nil {
		a.fail(w, r, apperr.Wrap(apperr.Invalid, err, "malformed multipart body: "+err.Error()))
		return
	}
	for {
		part, err := mr.NextPart()
		var tooLarge *http.MaxBytesError
		switch {
		case errors.Is(err, io.EOF):
			a.fail(w, r, apperr.New(apperr.Invalid, "the multipart body has no part named file"))
			return
		case errors.As(err, &tooLarge):
			a.fail(w, r, err)
			return
		case err != nil:
			a.fail(w, r, apperr.Wrap(apperr.Invalid, err, "malformed multipart body: "+err.Error()))
			return
		}
		if part.FormName() != "file" {
			_ = part.Close() // drains the part; a failure shows at the next part
			continue
		}
		f, err := a.jobs.PutFile(r.Context(), principal(r), vcOf(r), r.PathValue("name"), r.PathValue("path"), part)
		_ = part.Close()
		if err != nil {
			a.fail(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusCreated, wireFile(f))
		return
	}
}

func (a *JobsAPI) getFile(w http.ResponseWriter, r *http.Request) {
	f, content, err := a.jobs.OpenFile(r.Context(), vcOf(r), r.PathValue("name"), r.PathValue("path"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	defer content.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("ETag", `"`+f.Signature+`"`)
	name := f.Path[strings.LastIndexByte(f.Path, '/')+1:]
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	http.ServeContent(w, r, name, f.Modified, content)
}

func (a *JobsAPI) deleteFile(w http.ResponseWriter, r *http.Request) {
	if err := a.jobs.DeleteFile(r.Context(), principal(r), vcOf(r), r.PathValue("name"), r.PathValue("path")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *JobsAPI) listCredentials(w http.ResponseWriter, r *http.Request) {
	list, page, err := a.jobs.ListCredentials(r.Context(), vcOf(r), listquery.DecodeQuery(r.URL.RawQuery))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := CredentialList{Credentials: make([]Credential, len(list)), Meta: wireMeta(page)}
	for i, c := range list {
		out.Credentials[i] = wireCredential(c)
	}
	httpjson.Write(w, http.StatusOK, out)
}

func (a *JobsAPI) createCredential(w http.ResponseWriter, r *http.Request) {
	var in CredentialInput
	if err := a.json.Decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.jobs.CreateCredential(r.Context(), principal(r), vcOf(r), in.domain())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, wireCredential(c))
}

func (a *JobsAPI) getCredential(w http.ResponseWriter, r *http.Request) {
	c, err := a.jobs.GetCredential(r.Context(), vcOf(r), r.PathValue("name"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireCredential(c))
}

func (a *JobsAPI) patchCredential(w http.ResponseWriter, r *http.Request) {
	var in CredentialPatch
	if err := a.json.Decode(w, r, &in); err != nil {
		a.fail(w, r, err)
		return
	}
	c, err := a.jobs.PatchCredential(r.Context(), principal(r), vcOf(r), r.PathValue("name"), in.domain())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireCredential(c))
}

func (a *JobsAPI) deleteCredential(w http.ResponseWriter, r *http.Request) {
	if err := a.jobs.DeleteCredential(r.Context(), principal(r), vcOf(r), r.PathValue("name")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
