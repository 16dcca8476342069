// Package testutil holds small helpers that tests of several packages
// share. It imports nothing of Herd's, so any package's tests may use it.
package testutil
