// Package cde serves the Cloudera Data Engineering surface: the Knox token
// endpoints that hand out access tokens (/gateway/{authtkn,authkn,cdptkn}/
// knoxtoken/api/v1/token and jwks.json) and the jobs API of the default
// virtual cluster under /dex/api/v1 (jobs, resources and their files,
// credentials, /info), with its OpenAPI document and docs page.
//
// Handlers decode, call the auth or jobs service and encode; errors are
// written in the CDE shape {"status": <code>, "message": "..."} by the one
// function errorWriter returns.
package cde
