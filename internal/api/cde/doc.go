// Package cde serves the Cloudera Data Engineering surface: the Knox token
// endpoints that hand out access tokens (/gateway/{authtkn,authkn,cdptkn}/
// knoxtoken/api/v1/token and jwks.json) and the jobs API of the virtual
// clusters under /dex/api/v1 (jobs, resources and their files, credentials,
// runs, /info), with its OpenAPI document and docs page. As in CDE, the
// first DNS label of the request's host names the virtual cluster; any
// other host reaches the default one.
//
// Handlers decode, call the auth or jobs service and encode; errors are
// written in the CDE shape {"status": <code>, "message": "..."} by the one
// function errorWriter returns.
package cde
