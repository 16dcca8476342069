// Package inventory owns the cluster manager's model: hosts and their
// agents, clusters, services, role config groups, roles and their
// configuration, the asynchronous commands that act on them, and the health
// derived from what the agents report.
//
// Persistent state (the inventory, desired process states, commands) is in
// the store; what agents report (heartbeats, process states, probe results)
// is kept in memory only, so that a server restart knows nothing live until
// each agent has reported again, which is the truth. The server side of the
// agent protocol (internal/agentapi) is here: registration, heartbeats, and
// each host's desired state, rendered from the service type catalog
// (internal/servicetype). API packages translate to and from this package.
package inventory
