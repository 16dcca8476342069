package jobs

import (
	"bytes"
	"encoding/json"

	"github.com/herdhq/herd/internal/apperr"
)

// MergePatch applies an RFC 7396 JSON merge patch to doc: objects merge key
// by key, null removes a key, arrays and scalars replace. Both must be JSON;
// a patch that is not an object replaces doc entirely.
func MergePatch(doc, patch []byte) ([]byte, error) {
	var p any
	if err := decodeJSON(patch, &p); err != nil {
		return nil, apperr.Wrap(apperr.Invalid, err, "the patch is not valid JSON")
	}
	var d any
	if err := decodeJSON(doc, &d); err != nil {
		return nil, err
	}
	return json.Marshal(mergeValue(d, p))
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

func mergeValue(target, patch any) any {
	po, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	to, ok := target.(map[string]any)
	if !ok {
		to = map[string]any{}
	}
	for k, v := range po {
		if v == nil {
			delete(to, k)
			continue
		}
		to[k] = mergeValue(to[k], v)
	}
	return to
}
