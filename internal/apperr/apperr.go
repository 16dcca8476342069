package apperr

import (
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an error for the API layer.
type Kind int

// The kinds of error a domain call can return.
const (
	Internal        Kind = iota // a bug or an unexpected failure; details are not shown to callers
	Invalid                     // the request is malformed or fails validation
	NotFound                    // the named object does not exist
	Conflict                    // the object exists already, or the change clashes with current state
	Unauthenticated             // no credentials, or credentials that do not prove an identity
	Forbidden                   // the caller is known but may not do this
	TooLarge                    // the request body is over the limit
	Unavailable                 // the server cannot serve the request now (starting, stopping)
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Unauthenticated:
		return "unauthenticated"
	case Forbidden:
		return "forbidden"
	case TooLarge:
		return "too large"
	case Unavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// HTTPStatus is the status code a kind maps to when an API family has no
// reason to differ.
func (k Kind) HTTPStatus() int {
	switch k {
	case Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Error is an error with a Kind and a message safe to show to the caller.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // optional cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a formatted caller-facing message.
func New(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of the given kind whose caller-facing message is msg
// and whose cause, kept for logs, is err.
func Wrap(kind Kind, err error, msg string) error {
	return &Error{Kind: kind, Msg: msg, Err: err}
}

// KindOf returns the kind of err: the Kind of the first *Error in its chain,
// TooLarge for a request body over its limit, Internal otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return TooLarge
	}
	return Internal
}

// Message returns the text to show to an API caller. Internal errors get a
// fixed text so that their details stay in the logs.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fmt.Sprintf("request body is larger than the limit of %d bytes", tooLarge.Limit)
	}
	return "internal server error"
}
