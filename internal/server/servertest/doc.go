// Package servertest starts real Herd servers for tests: a fresh data
// directory, a random loopback port, real HTTP, and a clock the test
// controls. Later API families reuse it for their end-to-end tests.
package servertest
