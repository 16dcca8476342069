package httpjson

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/herdhq/herd/internal/apperr"
)

// Decoder reads JSON request bodies.
type Decoder struct {
	// MaxBytes is the largest body accepted; a longer one is a TooLarge
	// error (413).
	MaxBytes int64
	// AllowUnknown makes fields the target type does not have be ignored
	// instead of refused; for APIs whose clients send extra keys.
	AllowUnknown bool
}

// Decode reads one JSON value from the request body into v. Trailing data,
// wrong types, an empty body and (unless allowed) unknown fields are
// Invalid errors; a body over the limit is TooLarge.
func (d Decoder) Decode(w http.ResponseWriter, r *http.Request, v any) error {
	return d.decode(w, r, v, false)
}

// DecodeOptional is Decode for bodies that may be absent: an empty body
// leaves v untouched.
func (d Decoder) DecodeOptional(w http.ResponseWriter, r *http.Request, v any) error {
	return d.decode(w, r, v, true)
}

func (d Decoder) decode(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, d.MaxBytes))
	if !d.AllowUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			if allowEmpty {
				return nil
			}
			return apperr.New(apperr.Invalid, "request body is empty: send a JSON object")
		}
		return apperr.FromJSON(err)
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
		return apperr.New(apperr.Invalid, "request body has data after the JSON value, which ends at byte %d", end)
	}
	return nil
}

// Write sends v as JSON with the given status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client may have gone; nothing to do about it
}
