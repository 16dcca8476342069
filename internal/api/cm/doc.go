// Package cm serves the Cloudera Manager REST API at /api/v1 … /api/v19
// (with v19's field sets, which the cm_api client of those versions
// accepts) over the inventory: echo, version, users, hosts, clusters,
// services, roles, role config groups, configuration and commands. Wire
// types live here; every domain error is mapped to CM's {"message"} shape
// in writeError.
package cm
