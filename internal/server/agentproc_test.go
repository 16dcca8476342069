package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/agent"
)

// envTestAgent makes the test binary run a host agent described by the
// JSON of an agentSpec, until SIGTERM.
const envTestAgent = "HERD_TEST_AGENT"

// agentSpec is what a test agent process is started with.
type agentSpec struct {
	Server, Token, Address, Hostname, DataDir, HadoopHome, SparkVenv string
}

func runAgentProcess(spec string) int {
	var s agentSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	exe, _ := os.Executable()
	a, err := agent.New(agent.Config{
		ServerURL: s.Server, Token: s.Token, Address: s.Address, Hostname: s.Hostname, DataDir: s.DataDir,
		Executable: exe, HadoopHome: s.HadoopHome, SparkVenv: s.SparkVenv, Version: "test",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := a.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// agentProc is a host agent running as a process of its own, so that a
// test can kill it with SIGKILL.
type agentProc struct {
	spec agentSpec
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startAgentProcess starts (or starts again) a host agent process.
func startAgentProcess(t *testing.T, spec agentSpec) *agentProc {
	t.Helper()
	b, _ := json.Marshal(spec)
	p := &agentProc{spec: spec, log: filepath.Join(spec.DataDir+".logs", "agent-"+strconv.FormatInt(time.Now().UnixNano(), 36)+".log"), done: make(chan struct{})}
	if err := os.MkdirAll(filepath.Dir(p.log), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(os.Args[0], "-test.run=^$")
	p.cmd.Env = append(os.Environ(), envTestAgent+"="+string(b), "GORACE=atexit_sleep_ms=0")
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.done) }()
	return p
}

// stop ends the agent with sig and waits for it; its roles keep running.
func (p *agentProc) stop(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail returns the end of the agent's log.
func (p *agentProc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// javaUnder returns the pids of the java processes whose command
// line names a path under dir (a role's configuration directory).
func javaUnder(dir string) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0})
		if len(args) > 0 && filepath.Base(string(args[0])) == "java" && bytes.Contains(b, []byte(dir)) {
			out = append(out, pid)
		}
	}
	return out
}

// rolePid returns the pid of a role's java process on the agent with data
// directory dataDir, or 0.
func rolePid(dataDir, role string) int {
	pids := javaUnder(filepath.Join(dataDir, "roles", role) + string(filepath.Separator))
	if len(pids) != 1 {
		return 0
	}
	return pids[0]
}

// killLeftovers kills, with SIGKILL, every java process under the given
// directories, and says which there were.
func killLeftovers(dirs ...string) string {
	var killed []string
	for _, d := range dirs {
		for _, pid := range javaUnder(d) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			killed = append(killed, strconv.Itoa(pid))
		}
	}
	return strings.Join(killed, " ")
}

// eventually polls cond every 250ms until it holds, and fails the test
// when it does not within timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); ; time.Sleep(250 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
	}
}
