// Package openapi holds the checked-in OpenAPI documents of Herd's REST
// APIs, written by hand and embedded into the binary.
//
// The documents are plain bytes here: this package has no dependencies, so
// the server can serve them cheaply. Parsing and validation live with their
// users (internal/api/cde renders the docs page; openapitest checks
// responses against a document in tests).
package openapi

import _ "embed"

// CDE is the OpenAPI 3.0 document of the CDE-compatible virtual-cluster
// jobs API served under /dex/api/v1 (cde.yaml).
//
//go:embed cde.yaml
var CDE []byte
