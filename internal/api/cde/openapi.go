package cde

import (
	"fmt"
	"net/http"

	"github.com/herdhq/herd/internal/apidocs"
	"github.com/herdhq/herd/openapi"
)

// RegisterDocs serves, without authentication, the API's OpenAPI document
// (GET <Prefix>/openapi.yaml, the embedded YAML as is) and a readable HTML
// page rendered from it (GET <Prefix>/docs), the counterpart of the
// "API DOC" link of a CDE virtual cluster.
// The page is rendered once, here.
func (a *JobsAPI) RegisterDocs(mux *http.ServeMux) {
	page, err := apidocs.Render(openapi.CDE)
	a.routes = append(a.routes, "GET /openapi.yaml", "GET /docs")
	mux.HandleFunc("GET "+Prefix+"/openapi.yaml", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(openapi.CDE)
	})
	mux.HandleFunc("GET "+Prefix+"/docs", func(w http.ResponseWriter, r *http.Request) {
		if err != nil {
			a.fail(w, r, fmt.Errorf("render the API docs page: %w", err))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(page)
	})
}
