//go:build unix

package runner

import (
	"fmt"
	"os"
	"testing"
)

// The test binary doubles as the wrapper: Runners in these tests execute
// os.Args[0], and MaybeWrapper turns that process into a wrapper. It also
// doubles as a server that starts one run and waits to be killed (see
// fakeServer).
func TestMain(m *testing.M) {
	MaybeWrapper()
	if dir := os.Getenv(envFakeServer); dir != "" {
		fakeServer(dir, os.Getenv(envFakeServerScript), os.Getenv(envFakeServerPlain) == "1")
	}
	os.Exit(m.Run())
}

const (
	envFakeServer       = "HERD_RUNNER_TEST_SERVER_DIR"
	envFakeServerScript = "HERD_RUNNER_TEST_SERVER_SCRIPT"
	envFakeServerPlain  = "HERD_RUNNER_TEST_SERVER_PLAIN"
)

// fakeServer starts one run of script in dir and blocks until killed.
func fakeServer(dir, script string, plain bool) {
	r := New(os.Args[0], nil)
	r.extraEnv = []string{"GORACE=atexit_sleep_ms=0"}
	if plain {
		r.setIsolation(false, "the fake server disabled isolation")
	}
	_, err := r.Start(Spec{Dir: dir, Command: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("started")
	select {}
}
