// Package openapitest checks HTTP answers against Herd's OpenAPI documents,
// for tests: an end-to-end test passes each request and the answer it got
// to a Validator, which fails when the answer is not one the document
// describes.
//
// It uses kin-openapi, which the server binary does not need; import it
// from tests only.
package openapitest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/herdhq/herd/openapi"
)

// MultiSegmentExtension marks a path parameter whose value may contain
// "/" (OpenAPI path templates match one segment per parameter). It must be
// the last segment of its path template.
const MultiSegmentExtension = "x-multi-segment"

// Validator checks answers against one OpenAPI document.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	base   string     // the server's base path, e.g. /dex/api/v1
	multi  [][]string // segments of templates ending in a multi-segment parameter
}

// NewCDE returns a Validator for the CDE jobs API (openapi/cde.yaml).
func NewCDE() (*Validator, error) { return New(openapi.CDE) }

// New returns a Validator for an OpenAPI 3.0 document with one server.
func New(src []byte) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(src)
	if err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("invalid OpenAPI document: %w", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route the OpenAPI document: %w", err)
	}
	v := &Validator{doc: doc, router: router}
	if len(doc.Servers) > 0 {
		base, err := doc.Servers[0].BasePath()
		if err != nil {
			return nil, fmt.Errorf("server base path: %w", err)
		}
		v.base = strings.TrimSuffix(base, "/")
	}
	for _, path := range doc.Paths.InMatchingOrder() {
		if segs := strings.Split(strings.TrimPrefix(path, "/"), "/"); multiSegment(doc.Paths.Value(path), segs[len(segs)-1]) {
			v.multi = append(v.multi, segs)
		}
	}
	return v, nil
}

// multiSegment reports whether the path template segment seg is a
// parameter marked with MultiSegmentExtension.
func multiSegment(item *openapi3.PathItem, seg string) bool {
	if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
		return false
	}
	name := seg[1 : len(seg)-1]
	marked := func(params openapi3.Parameters) bool {
		p := params.GetByInAndName(openapi3.ParameterInPath, name)
		return p != nil && p.Extensions[MultiSegmentExtension] == true
	}
	if marked(item.Parameters) {
		return true
	}
	for _, op := range item.Operations() {
		if marked(op.Parameters) {
			return true
		}
	}
	return false
}

// Check validates an answer to req: the operation must exist in the
// document, status must be documented for it (or a default response must
// exist), and a JSON body must match the response's schema. Bodies of
// other types (file downloads, YAML, HTML) are checked for their media
// type only. A request the document has no operation for is consistent
// with it only when answered 404 (no such path) or 405 (the path exists
// for other methods).
func (v *Validator) Check(req *http.Request, status int, header http.Header, body []byte) error {
	what := req.Method + " " + req.URL.EscapedPath()
	route, params, err := v.router.FindRoute(v.routable(req))
	if err != nil {
		reason, want := "no such path", http.StatusNotFound
		if errors.Is(err, routers.ErrMethodNotAllowed) {
			reason, want = "the path exists for other methods", http.StatusMethodNotAllowed
		}
		if status == want {
			return nil
		}
		return fmt.Errorf("%s: no operation in the document (%s), yet answered %d, not %d", what, reason, status, want)
	}
	what = req.Method + " " + route.Path
	responses := route.Operation.Responses
	ref := responses.Status(status)
	if ref == nil {
		ref = responses.Default()
	}
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("%s: status %d is not documented (documented: %s)", what, status, strings.Join(documented(responses), ", "))
	}
	resp := ref.Value
	ct := header.Get("Content-Type")
	if len(resp.Content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("%s: status %d is documented without a body, got %d bytes of %q", what, status, len(body), ct)
		}
		return nil
	}
	if status != http.StatusNotModified && len(body) > 0 && resp.Content.Get(ct) == nil {
		return fmt.Errorf("%s: status %d: Content-Type %q is not documented (documented: %s)", what, status, ct, strings.Join(slices.Sorted(maps.Keys(resp.Content)), ", "))
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: !isJSON(ct)},
	}
	in.SetBodyBytes(bytes.Clone(body))
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("%s: status %d: %w", what, status, err)
	}
	return nil
}

// routable returns req, or a copy whose path has the extra segments of a
// multi-segment parameter folded into one (their slashes escaped), so that
// the router can match it.
func (v *Validator) routable(req *http.Request) *http.Request {
	escaped := req.URL.EscapedPath()
	rest, ok := strings.CutPrefix(escaped, v.base+"/")
	if !ok {
		return req
	}
	segs := strings.Split(rest, "/")
	for _, tmpl := range v.multi {
		n := len(tmpl)
		if len(segs) <= n || !prefixMatches(tmpl[:n-1], segs) {
			continue
		}
		folded := v.base + "/" + strings.Join(segs[:n-1], "/") + "/" + strings.Join(segs[n-1:], "%2F")
		path, err := url.PathUnescape(folded)
		if err != nil {
			return req
		}
		u := *req.URL
		u.Path, u.RawPath = path, folded
		out := req.Clone(req.Context())
		out.URL = &u
		return out
	}
	return req
}

// prefixMatches reports whether the request segments start with the
// template segments (a {parameter} matches any non-empty segment).
func prefixMatches(tmpl, segs []string) bool {
	for i, t := range tmpl {
		if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
			if segs[i] == "" {
				return false
			}
			continue
		}
		if segs[i] != t {
			return false
		}
	}
	return true
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func documented(r *openapi3.Responses) []string {
	var out []string
	for code := range r.Map() {
		out = append(out, code)
	}
	slices.SortFunc(out, func(a, b string) int {
		ai, aerr := strconv.Atoi(a)
		bi, berr := strconv.Atoi(b)
		if aerr == nil && berr == nil {
			return ai - bi
		}
		return strings.Compare(a, b)
	})
	return out
}
