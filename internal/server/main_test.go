package server_test

import (
	"net/http"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/herdhq/herd/internal/runner"
)

// Every server a test starts must be gone, with all its goroutines, when
// the tests end. The test binary doubles as the runner wrapper of role and
// run processes, and as a host agent process (see startAgentProcess).
func TestMain(m *testing.M) {
	runner.MaybeWrapper()
	if spec := os.Getenv(envTestAgent); spec != "" {
		os.Exit(runAgentProcess(spec))
	}
	code := m.Run()
	http.DefaultClient.CloseIdleConnections()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			os.Stderr.WriteString("goroutines leaked: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}
