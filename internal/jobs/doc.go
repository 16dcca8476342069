// Package jobs owns the CDE jobs domain: virtual clusters and, inside each,
// jobs, resources (with their files), workload credentials and runs.
//
// A job is a JSON document (Definition) that clients write and read back;
// the package normalizes and validates it, keeps what it refers to
// (resources, credentials) in the store so that nothing in use can be
// deleted, and computes the schedule's next execution. Resource files live
// in the blob store; credentials are sealed by the keyring and their values
// never leave the package except to a run that mounts them.
//
// A run is accepted into the store, then started by the dispatcher when a
// slot is free: spark-submit of the Spark runtime (sparkrt) in a process
// tree supervised by the runner, which outlives the server and is
// re-attached by Run after a restart. Run also fires due schedules, builds
// python-env resources and applies run retention.
//
// Every change is one store transaction. Errors are apperr kinds with
// messages that name the offending field or object.
package jobs
