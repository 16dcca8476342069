package cde

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/jobs"
)

// Error is the CDE error body. ID is set on the 409 of a repeated run
// requestID: the id of the run the first request started, which the
// Airflow operator reads.
type Error struct {
	ID      int64  `json:"id,omitempty"`
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// errorWriter returns the one place that turns domain errors into CDE
// error responses.
func errorWriter(log *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		kind := apperr.KindOf(err)
		status := kind.HTTPStatus()
		if kind == apperr.Internal {
			log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		body := Error{Status: status, Message: apperr.Message(err)}
		if dup, ok := errors.AsType[*jobs.DuplicateRunError](err); ok {
			body.ID = dup.ID
		}
		httpjson.Write(w, status, body)
	}
}
