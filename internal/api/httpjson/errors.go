package httpjson

import (
	"log/slog"
	"net/http"

	"github.com/herdhq/herd/internal/apperr"
)

// CodedError is the error body of the CDP-style APIs (IAM) and of Herd's
// own API: a code and a message, as CDP documents its Error object.
type CodedError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorCodes are CDP's (gRPC-style) codes for each kind.
var errorCodes = map[apperr.Kind]string{
	apperr.Invalid:         "INVALID_ARGUMENT",
	apperr.NotFound:        "NOT_FOUND",
	apperr.Conflict:        "ALREADY_EXISTS",
	apperr.Unauthenticated: "UNAUTHENTICATED",
	apperr.Forbidden:       "PERMISSION_DENIED",
	apperr.TooLarge:        "INVALID_ARGUMENT",
	apperr.Unavailable:     "UNAVAILABLE",
	apperr.Internal:        "INTERNAL",
}

// CodedErrorWriter returns the one function that turns domain errors into
// CodedError answers. Internal errors are logged and answered with a fixed
// text.
func CodedErrorWriter(log *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		kind := apperr.KindOf(err)
		if kind == apperr.Internal {
			log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		}
		Write(w, kind.HTTPStatus(), CodedError{Code: errorCodes[kind], Message: apperr.Message(err)})
	}
}
