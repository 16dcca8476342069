// Package apidocs renders an OpenAPI 3.0 document as a readable,
// self-contained HTML page (no scripts, no external assets): the "API DOC"
// page each API family serves beside its document.
//
// The document is read with a YAML decoder into the small part of OpenAPI
// the page shows, rather than with a full OpenAPI library that would add a
// dozen modules to the server binary for one page; the tests validate the
// documents themselves with kin-openapi.
package apidocs
