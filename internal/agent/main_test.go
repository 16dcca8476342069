package agent

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"

	"github.com/herdhq/herd/internal/runner"
)

// wrapperExe is the executable the tests' agents start wrappers with: a
// script that runs the test binary (which TestMain turns into a wrapper)
// with the race detector's exit delay off.
var wrapperExe string

// The test binary doubles as the runner wrapper of role processes, and as
// a role process that serves HTTP for probes (see serveForProbe).
func TestMain(m *testing.M) {
	runner.MaybeWrapper()
	if addr := os.Getenv(envProbeServer); addr != "" {
		serveForProbe(addr)
		return
	}
	if dir := os.Getenv(envAgentDir); dir != "" {
		os.Exit(runAgentProcess(dir))
	}
	dir, err := os.MkdirTemp("", "herd-agent-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wrapperExe = filepath.Join(dir, "herd-wrapper")
	script := "#!/bin/sh\nGORACE=atexit_sleep_ms=0 exec '" + self + "' \"$@\"\n"
	if err := os.WriteFile(wrapperExe, []byte(script), 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	http.DefaultClient.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines leaked:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// envAgentDir makes the test binary run an agent on that data directory,
// of the server envAgentServer, until it is killed; envAgentWrapper is its
// Executable.
const (
	envAgentDir     = "HERD_AGENT_TEST_AGENT_DIR"
	envAgentServer  = "HERD_AGENT_TEST_AGENT_SERVER"
	envAgentWrapper = "HERD_AGENT_TEST_AGENT_WRAPPER"
)

func runAgentProcess(dir string) int {
	a, err := New(Config{
		ServerURL: os.Getenv(envAgentServer), Token: "hht_test", Address: "127.0.0.1", Hostname: "test-host",
		DataDir: dir, Executable: os.Getenv(envAgentWrapper), Version: "test",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	a.t = testTimings()
	a.interval = a.t.interval
	a.discover = func(context.Context) runtimes { return runtimes{sparkErr: "none", hadoopErr: "none"} }
	if err := a.Run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// envProbeServer makes the test binary serve probeBody on the address it
// names, and nothing else.
const envProbeServer = "HERD_AGENT_TEST_PROBE_ADDR"

const probeBody = `{"beans":[{"name":"Hadoop:service=NameNode","NumLiveDataNodes":3,"tag.HAState":"active"}]}`

func serveForProbe(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("serving on", addr)
	mux := http.NewServeMux()
	mux.HandleFunc("/jmx", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, probeBody)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "not json") })
	_ = http.Serve(ln, mux) //nolint:gosec // a test helper
	os.Exit(1)
}
