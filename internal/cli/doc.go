// Package cli implements the herd command: `herd server` runs the control
// plane; `herd user`, `herd accesskey` and `herd whoami` are clients that
// talk to a running server over HTTP.
package cli
