// Package hostagent serves the server side of the host agent protocol
// (internal/agentapi): registration, heartbeats and the desired-state long
// poll, plus POST /herd/v1/host-tokens, with which an admin issues the
// tokens agents register with. Errors are {"code", "message"}.
package hostagent
