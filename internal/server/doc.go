// Package server wires Herd's control plane together: configuration, data
// directory, keyring, store, auth service, the API families, health
// endpoints and background loops. New prepares everything and binds the
// listener; Run serves until its context ends and then shuts down cleanly.
//
// All API families share one listener and are routed by path:
//
//	/gateway/{topology}/knoxtoken/...   Knox tokens for the CDE jobs API (api/cde)
//	/api/v1/iam/..., /iam/...           CDP-style IAM (api/iam)
//	/herd/v1/...                        Herd's management API (api/admin)
//	/healthz, /readyz                   liveness and readiness
package server
