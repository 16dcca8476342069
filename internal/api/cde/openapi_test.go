package cde

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/herdhq/herd/openapi"
)

func loadCDEDocument(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.CDE)
	if err != nil {
		t.Fatalf("parse openapi/cde.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi/cde.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// documentedOperations returns "METHOD /path" for every operation.
func documentedOperations(doc *openapi3.T) []string {
	var ops []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	slices.Sort(ops)
	return ops
}

// registeredAPI registers the jobs API and its docs on a new mux. The
// services stay nil: registering must not touch them (auth.Service.Require
// only builds a closure).
func registeredAPI(t *testing.T) (*JobsAPI, *http.ServeMux) {
	t.Helper()
	a := NewJobsAPI(nil, nil, slog.New(slog.DiscardHandler), Options{})
	mux := http.NewServeMux()
	a.Register(mux)
	a.RegisterDocs(mux)
	return a, mux
}

func TestOpenAPIDocumentValid(t *testing.T) {
	doc := loadCDEDocument(t)
	if got := doc.OpenAPI; got != "3.0.3" {
		t.Errorf("openapi version %q, want 3.0.3", got)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != Prefix {
		t.Errorf("servers %v, want one with url %s", doc.Servers, Prefix)
	}
	// Every operation but the docs needs the bearer token.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			public := path == "/openapi.yaml" || path == "/docs"
			switch {
			case public && (op.Security == nil || len(*op.Security) != 0):
				t.Errorf("%s %s: want security: [] (no authentication)", method, path)
			case !public && op.Security != nil:
				t.Errorf("%s %s: overrides the document's bearer security", method, path)
			}
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s: needs an operationId and a summary", method, path)
			}
		}
	}
}

// TestOpenAPICoverage checks that the document and the routes of Register
// and RegisterDocs name the same operations.
func TestOpenAPICoverage(t *testing.T) {
	doc := loadCDEDocument(t)
	a, _ := registeredAPI(t)

	routes := map[string]bool{}
	for _, r := range a.Routes() {
		// ServeMux's multi-segment wildcard is a plain parameter in OpenAPI.
		routes[strings.ReplaceAll(r, "...}", "}")] = true
	}
	documented := map[string]bool{}
	for _, op := range documentedOperations(doc) {
		documented[op] = true
	}

	var missingFromDoc, missingFromCode []string
	for r := range routes {
		if !documented[r] {
			missingFromDoc = append(missingFromDoc, r)
		}
	}
	for op := range documented {
		if !routes[op] {
			missingFromCode = append(missingFromCode, op)
		}
	}
	slices.Sort(missingFromDoc)
	slices.Sort(missingFromCode)
	if len(missingFromDoc) > 0 {
		t.Errorf("routes missing from openapi/cde.yaml:\n  %s", strings.Join(missingFromDoc, "\n  "))
	}
	if len(missingFromCode) > 0 {
		t.Errorf("operations in openapi/cde.yaml that no route serves:\n  %s", strings.Join(missingFromCode, "\n  "))
	}
	if len(routes) < 25 {
		t.Errorf("only %d routes registered; Routes() seems incomplete: %v", len(routes), a.Routes())
	}
}

// serve answers a GET of path without any credentials.
func serve(h http.Handler, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil))
	return rec
}

func TestOpenAPIYAMLServed(t *testing.T) {
	_, mux := registeredAPI(t)
	resp := serve(mux, Prefix+"/openapi.yaml")
	body := resp.Body.Bytes()
	if resp.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", resp.Code, body)
	}
	if ct := resp.Header().Get("Content-Type"); ct != "application/yaml" {
		t.Errorf("Content-Type %q, want application/yaml", ct)
	}
	if string(body) != string(openapi.CDE) {
		t.Error("the served document differs from openapi/cde.yaml")
	}
}

func TestDocsPage(t *testing.T) {
	doc := loadCDEDocument(t)
	_, mux := registeredAPI(t)
	resp := serve(mux, Prefix+"/docs")
	page := resp.Body.String()
	if resp.Code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", resp.Code, page)
	}
	if ct := resp.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want text/html", ct)
	}
	for _, want := range []string{
		"<title>" + html.EscapeString(doc.Info.Title), "API DOC", `id="auth"`, "Bearer", `id="contents"`, `id="schemas"`,
		`href="openapi.yaml"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// Self-contained: no scripts, no external style sheets or images.
	for _, bad := range []string{"<script", "<link", "src=", "http://", "https://"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page contains %q; it must not load anything", bad)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !strings.Contains(page, html.EscapeString(Prefix+path)) {
				t.Errorf("the page lacks the path of %s %s", method, path)
			}
			if !strings.Contains(page, `id="op-`+op.OperationID+`"`) {
				t.Errorf("the page has no section for %s %s (%s)", method, path, op.OperationID)
			}
			if !strings.Contains(page, html.EscapeString(op.Summary)) {
				t.Errorf("the page lacks the summary of %s %s", method, path)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("the page has no section for schema %s", name)
		}
	}
	// A few renderings worth keeping: deprecation, nested fields, flags,
	// and the multipart body.
	for _, want := range []string{
		`<span class="tag warn">deprecated</span>`,
		`<span class="tag ok">no authentication</span>`,
		`<span class="tag">read-only</span>`,
		`<span class="tag">write-only</span>`,
		`<code>multipart/form-data</code>`,
		`string (binary)`,
		`array of <a href="#schema-Job">Job</a>`,
		`map of string to string`,
		`One of <code>spark</code>, <code>airflow</code>.`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}
