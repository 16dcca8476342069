package httpjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/herdhq/herd/internal/apperr"
)

// Decode reads one JSON value from the request body into v. Unknown fields,
// trailing data, wrong types and an empty body are Invalid errors; a body
// over the server's limit is TooLarge. With allowEmpty, an empty body leaves
// v untouched.
func Decode(r *http.Request, v any, allowEmpty bool) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			if allowEmpty {
				return nil
			}
			return apperr.New(apperr.Invalid, "request body is empty: send a JSON object")
		}
		return describe(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return describe(err)
		}
		return apperr.New(apperr.Invalid, "request body has data after the JSON value")
	}
	return nil
}

func describe(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.As(err, &syntax):
		return apperr.Wrap(apperr.Invalid, err, fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return apperr.Wrap(apperr.Invalid, err, fmt.Sprintf("request body must be a JSON %s, not %s", jsonType(typeErr.Type.Kind().String()), typeErr.Value))
		}
		return apperr.Wrap(apperr.Invalid, err, fmt.Sprintf("field %q must be of type %s, not %s", field, jsonType(typeErr.Type.Kind().String()), typeErr.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.Wrap(apperr.Invalid, err, "malformed JSON: the body ends in the middle of a value")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return apperr.Wrap(apperr.Invalid, err, "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return apperr.Wrap(apperr.Invalid, err, "malformed JSON: "+err.Error())
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	}
	return goKind
}

// Write sends v as JSON with the given status.
func Write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v) // the client may have gone; nothing to do about it
}
