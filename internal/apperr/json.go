package apperr

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// FromJSON describes an encoding/json decoding error as an Invalid error
// whose message names the field and the expected type, or the place of a
// syntax error. A request body over its limit stays a TooLarge error.
func FromJSON(err error) error {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return err
	case errors.As(err, &syntax):
		return Wrap(Invalid, err, fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return Wrap(Invalid, err, fmt.Sprintf("request body must be a JSON %s, not %s", jsonType(typeErr.Type.Kind().String()), typeErr.Value))
		}
		return Wrap(Invalid, err, fmt.Sprintf("field %q must be of type %s, not %s", field, jsonType(typeErr.Type.Kind().String()), typeErr.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Wrap(Invalid, err, "malformed JSON: the body ends in the middle of a value")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return Wrap(Invalid, err, "unknown field "+strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return Wrap(Invalid, err, "malformed JSON: "+err.Error())
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
