// Package benchserver runs a herd server for the benchmarks under bench/:
// in the benchmark's own process (StartInProcess), or as a process of its
// own (Start): it builds ./cmd/herd, starts `herd server` on a
// free loopback port with a data directory of its own, waits until the
// server is ready, reads the admin password it wrote, shows the tail and a
// summary of its log, and stops it: SIGTERM, then SIGKILL. The server is
// in a process group of its own, so that a terminal's Ctrl-C reaches only
// the benchmark, and it is killed if the benchmark dies first.
//
// The flags of the server past --addr and --data-dir are the caller's
// (Config.Args). Processes the server starts in sessions of their own,
// such as the local host provider's VM agents, are not stopped with it.
//
// It also describes the machine a benchmark ran on: cores, CPU model,
// kernel, load average, and the Go version a binary was built with.
//
// The server part is Linux only.
package benchserver
