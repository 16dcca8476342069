// Package iam serves the CDP-style IAM calls under /api/v1/iam/ (and the
// older /iam/ prefix of the Altus host): generateWorkloadAuthToken, signed
// with x-altus-auth, and access-key management, authenticated by HTTP Basic
// or a request signature. It also serves the DE control plane's
// describeService (/api/v1/de/describeService), which the CDE SDK and the
// Airflow operator call for the environment CRN before
// generateWorkloadAuthToken.
//
// Every call is a POST with a JSON body, as in CDP. Errors are written in
// the CDP shape {"code": "...", "message": "..."} by
// httpjson.CodedErrorWriter alone.
package iam
