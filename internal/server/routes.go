package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/api/admin"
	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/api/cm"
	ecoapi "github.com/herdhq/herd/internal/api/eco"
	"github.com/herdhq/herd/internal/api/hostagent"
	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/api/iam"
)

func (s *Server) routes(certDER []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)

	cde.NewKnox(s.auth, s.log, s.cfg.PublicURL, certDER).Register(mux)
	jobsAPI := cde.NewJobsAPI(s.jobs, s.auth, s.log, cde.Options{
		MaxBodyBytes: s.cfg.MaxBodyBytes, MaxUploadBytes: s.cfg.MaxUploadBytes, Version: s.version,
	})
	jobsAPI.Register(mux)
	jobsAPI.RegisterDocs(mux)
	iam.New(s.auth, s.cfg.CDEServiceID, s.log, s.cfg.MaxBodyBytes).Register(mux)
	admin.New(s.auth, s.jobs, s.log, s.cfg.MaxBodyBytes).Register(mux)
	cm.New(s.inv, s.auth, s.log, cm.Options{MaxBodyBytes: s.cfg.MaxBodyBytes, Version: s.version, PublicURL: func(*http.Request) string { return s.cfg.PublicURL }}).Register(mux)
	agents := hostagent.New(s.inv, s.auth, s.log, s.cfg.MaxBodyBytes)
	agents.Register(mux)
	s.onShutdown = append(s.onShutdown, agents.Close)
	ecoapi.New(s.eco, s.auth, s.log, s.cfg.MaxBodyBytes, s.now).Register(mux)

	// Unknown paths and methods get JSON errors too.
	mux.Handle("/", notFound(mux))
	return s.recoverPanics(s.accessLog(mux))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": "starting or shutting down"})
		return
	}
	if err := s.db.Ping(r.Context()); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		httpjson.Write(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": "store does not answer"})
		return
	}
	httpjson.Write(w, http.StatusOK, map[string]string{"status": "ready"})
}

var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// notFound answers requests no route takes: 405 with Allow when the path
// exists for other methods, 404 otherwise.
func notFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, m := range probeMethods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writePlainError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on "+r.URL.Path+"; use "+strings.Join(allow, " or "))
			return
		}
		writePlainError(w, http.StatusNotFound, "no endpoint "+r.URL.Path)
	})
}

// writePlainError answers outside any API family: {"status", "message"}.
func writePlainError(w http.ResponseWriter, status int, msg string) {
	httpjson.Write(w, status, map[string]any{"status": status, "message": msg})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// accessLog logs each request's method, path, status and duration, never
// its headers or query (they may carry credentials).
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		level := slog.LevelDebug
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		s.log.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration", time.Since(start), "remote", r.RemoteAddr)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				s.log.Error("handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				writePlainError(w, http.StatusInternalServerError, "internal server error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}
