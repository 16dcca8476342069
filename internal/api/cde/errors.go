package cde

import (
	"log/slog"
	"net/http"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
)

// Error is the CDE error body.
type Error struct {
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
		httpjson.Write(w, status, Error{Status: status, Message: apperr.Message(err)})
	}
}
