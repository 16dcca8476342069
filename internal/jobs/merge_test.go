package jobs

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/herdhq/herd/internal/apperr"
)

func TestMergePatch(t *testing.T) {
	// The examples of RFC 7396 appendix A, plus the job-shaped cases.
	tests := []struct{ doc, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		// Jobs: conf merges key by key, arrays replace, numbers survive.
		{`{"spark":{"conf":{"a":"1","b":"2"},"args":["x"],"executorCores":4}}`,
			`{"spark":{"conf":{"b":"3"},"args":["y","z"]}}`,
			`{"spark":{"args":["y","z"],"conf":{"a":"1","b":"3"},"executorCores":4}}`},
	}
	for _, tc := range tests {
		got, err := MergePatch([]byte(tc.doc), []byte(tc.patch))
		if err != nil {
			t.Errorf("MergePatch(%s, %s): %v", tc.doc, tc.patch, err)
			continue
		}
		if !jsonEqual(t, got, []byte(tc.want)) {
			t.Errorf("MergePatch(%s, %s) = %s, want %s", tc.doc, tc.patch, got, tc.want)
		}
	}
	if _, err := MergePatch([]byte(`{}`), []byte(`{"a":`)); apperr.KindOf(err) != apperr.Invalid {
		t.Errorf("malformed patch: %v", err)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := decodeJSON(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := decodeJSON(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// FuzzMergePatch checks the properties of RFC 7396 on arbitrary JSON: the
// result is JSON; applying a patch twice changes nothing more (a merge
// patch is idempotent); and a patch without nulls leaves every key of
// the patch in the result with the patch's scalar and array values.
func FuzzMergePatch(f *testing.F) {
	f.Add(`{"a":{"b":1}}`, `{"a":{"c":2},"d":null}`)
	f.Add(`{"spark":{"conf":{"x":"1"}}}`, `{"spark":{"conf":{"x":null,"y":"2"}}}`)
	f.Add(`[]`, `{"a":[1,{"b":null}]}`)
	f.Add(`1`, `null`)
	f.Fuzz(func(t *testing.T, doc, patch string) {
		if !json.Valid([]byte(doc)) {
			return
		}
		once, err := MergePatch([]byte(doc), []byte(patch))
		if err != nil {
			if json.Valid([]byte(patch)) {
				t.Fatalf("valid JSON refused: %v", err)
			}
			return
		}
		if !json.Valid(once) {
			t.Fatalf("result is not JSON: %s", once)
		}
		twice, err := MergePatch(once, []byte(patch))
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, once, twice) {
			t.Fatalf("not idempotent:\n once %s\ntwice %s", once, twice)
		}
		var p map[string]any
		if decodeJSON([]byte(patch), &p) != nil {
			return
		}
		var res map[string]any
		if err := decodeJSON(once, &res); err != nil {
			t.Fatalf("object patch gave a non-object: %s", once)
		}
		for k, v := range p {
			switch v.(type) {
			case nil:
				if _, ok := res[k]; ok {
					t.Fatalf("key %q survived a null", k)
				}
			case map[string]any:
			default:
				if !reflect.DeepEqual(res[k], v) {
					t.Fatalf("key %q = %v, want %v", k, res[k], v)
				}
			}
		}
	})
}
