package httpjson

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/herdhq/herd/internal/apperr"
)

type body struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	Flag  bool   `json:"flag"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in   string
		allowEmpty bool
		kind       apperr.Kind
		msg        string // substring of the message
	}{
		{name: "ok", in: `{"name":"a","count":2}`, kind: -1},
		{name: "empty allowed", in: ``, allowEmpty: true, kind: -1},
		{name: "empty", in: ``, kind: apperr.Invalid, msg: "empty"},
		{name: "syntax", in: `{"name":}`, kind: apperr.Invalid, msg: "malformed JSON at byte"},
		{name: "truncated", in: `{"name":"a"`, kind: apperr.Invalid, msg: "ends in the middle"},
		{name: "wrong type", in: `{"count":"two"}`, kind: apperr.Invalid, msg: `field "count" must be of type number, not string`},
		{name: "wrong bool", in: `{"flag":1}`, kind: apperr.Invalid, msg: `field "flag" must be of type boolean`},
		{name: "not object", in: `[1]`, kind: apperr.Invalid, msg: "must be a JSON object, not array"},
		{name: "unknown field", in: `{"nope":1}`, kind: apperr.Invalid, msg: `unknown field "nope"`},
		{name: "trailing", in: `{} {}`, kind: apperr.Invalid, msg: "data after"},
		{name: "trailing garbage", in: `{} x`, kind: apperr.Invalid, msg: "data after the JSON value, which ends at byte 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.in))
			var b body
			d := Decoder{MaxBytes: 1 << 20}
			var err error
			if tc.allowEmpty {
				err = d.DecodeOptional(httptest.NewRecorder(), r, &b)
			} else {
				err = d.Decode(httptest.NewRecorder(), r, &b)
			}
			if tc.kind == -1 {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			if got := apperr.KindOf(err); got != tc.kind {
				t.Fatalf("kind = %v (%v), want %v", got, err, tc.kind)
			}
			if !strings.Contains(apperr.Message(err), tc.msg) {
				t.Fatalf("message %q lacks %q", apperr.Message(err), tc.msg)
			}
		})
	}
}

func TestDecodeTooLarge(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"`+strings.Repeat("x", 100)+`"}`))
	var b body
	err := Decoder{MaxBytes: 10}.Decode(httptest.NewRecorder(), r, &b)
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) || apperr.KindOf(err) != apperr.TooLarge {
		t.Fatalf("err = %v, want a MaxBytesError", err)
	}
}

func TestDecodeAllowUnknown(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"a","retention-policy":"x"}`))
	var b body
	if err := (Decoder{MaxBytes: 1024, AllowUnknown: true}).Decode(httptest.NewRecorder(), r, &b); err != nil || b.Name != "a" {
		t.Fatalf("lenient decode: %+v %v", b, err)
	}
}
