// Package agentapi is the wire protocol between the herd server and its host
// agents: registration, heartbeats that report what runs on a host, and the
// desired state of the host's roles that the server answers with. It holds
// types and constants only; the server side lives in internal/inventory and
// internal/server, the agent side in internal/agent.
//
// The protocol is pull-based, as in Nomad: the agent is the only side that
// opens connections. It registers once with a host token and receives a host
// id and secret (kept in its data directory), then
//
//   - POSTs a Heartbeat to HeartbeatPath every HeartbeatInterval, and at once
//     whenever a role's process starts, exits or changes probe results;
//   - GETs DesiredPath?after=<hash> (a long poll that returns when the
//     host's desired state differs from hash, or after WaitTimeout) and
//     reconciles its processes to the answer.
//
// Every call after registration carries "Authorization: Bearer
// <hostId>:<secret>".
package agentapi
