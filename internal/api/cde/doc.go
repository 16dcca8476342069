// Package cde serves the Cloudera Data Engineering surface: for now the
// Knox token endpoints that hand out the jobs API's access tokens
// (/gateway/{authtkn,authkn,cdptkn}/knoxtoken/api/v1/token and jwks.json).
//
// Handlers decode, call the auth service and encode; errors are written in
// the CDE shape {"status": <code>, "message": "..."} by writeError alone.
package cde
