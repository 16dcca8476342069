// Package servicetype is the catalog of service types Herd can manage, read
// from descriptor files (descriptors/*.yaml) in the manner of Cloudera
// Manager's service descriptors: each type's role types, their parameters
// (name, related property, default, description, type and validation), the
// configuration files each role gets, how its process is launched, a
// one-time init step, and the HTTP probes its health is judged by.
//
// The package owns validation of configuration values and rendering of a
// role's desired state (agentapi.RoleSpec) from the effective configuration
// and the service's topology. It knows nothing of storage or HTTP.
package servicetype
