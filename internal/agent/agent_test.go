package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/runner"
	"github.com/herdhq/herd/internal/testutil"
)

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	dir := t.TempDir()
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no server", func(c *Config) { c.ServerURL = "" }, "server URL is required"},
		{"bad server", func(c *Config) { c.ServerURL = "ftp://x" }, "not an http(s) URL"},
		{"no address", func(c *Config) { c.Address = "" }, "address roles bind to is required"},
		{"bad address", func(c *Config) { c.Address = "example.com" }, "not an IP address"},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data directory is required"},
		{"no identity, no token", func(c *Config) { c.Token = "" }, "no host token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, fs, filepath.Join(dir, tc.name))
			tc.change(&cfg)
			_, err := New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestRegisterKeepsIdentity(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	dataDir := filepath.Join(t.TempDir(), "agent") // created by New
	a := newTestAgent(t, testConfig(t, fs, dataDir))
	stop := runAgent(t, a)
	eventually(t, 15*time.Second, "a heartbeat", func() bool { _, n := fs.lastHeartbeat(); return n > 0 })

	regs := fs.regs()
	if len(regs) != 1 {
		t.Fatalf("%d registrations, want 1", len(regs))
	}
	reg := regs[0]
	if reg.Token != fs.token || reg.HostID != "" || reg.Hostname != "test-host" || reg.Address != "127.0.0.1" {
		t.Errorf("registration = %+v", reg)
	}
	f := reg.Facts
	if f.Cores <= 0 || f.MemoryBytes <= 0 || f.DiskBytes <= 0 || f.DiskFree <= 0 || f.DataDir != dataDir ||
		f.OS == "" || f.AgentVersion != "test" || f.Runtimes[agentapi.RuntimeExec] == "" ||
		f.Problems[agentapi.RuntimeSpark] == "" || f.Problems[agentapi.RuntimeHadoop] == "" {
		t.Errorf("facts = %+v", f)
	}
	if fi, err := os.Stat(dataDir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory: %v, %v; want mode 0700", fi.Mode(), err)
	}
	fi, err := os.Stat(identityPath(dataDir))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("identity file: %v, %v; want mode 0600", fi, err)
	}
	id, err := loadIdentity(dataDir)
	if err != nil || id.HostID != "host-1" || id.Secret != "secret-1" || a.HostID() != "host-1" {
		t.Fatalf("identity = %+v, %v", id, err)
	}
	_, n := fs.lastHeartbeat()
	stop()

	// A second agent on the same directory needs no token.
	cfg := testConfig(t, fs, dataDir)
	cfg.Token = ""
	b := newTestAgent(t, cfg)
	runAgent(t, b)
	eventually(t, 15*time.Second, "a heartbeat of the second agent", func() bool { _, m := fs.lastHeartbeat(); return m > n })
	if got := len(fs.regs()); got != 1 {
		t.Errorf("%d registrations, want still 1", got)
	}
	fs.mu.Lock()
	host := fs.lastHost
	fs.mu.Unlock()
	if host != "host-1" {
		t.Errorf("heartbeat from %q, want host-1", host)
	}
}

func TestDataDirLocked(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	a, dataDir := startAgent(t, fs)
	b := newTestAgent(t, testConfig(t, fs, dataDir))
	err := b.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "in use by another herd agent") {
		t.Fatalf("Run of a second agent on the same data directory: %v", err)
	}
	if err := a.Run(t.Context()); err == nil {
		t.Errorf("a second Run of the same agent succeeded")
	}
}

func TestReregistersWhenRefused(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	a, dataDir := startAgent(t, fs)
	fs.forget(a.HostID())
	eventually(t, 15*time.Second, "registering again", func() bool { return len(fs.regs()) == 2 })
	if reg := fs.regs()[1]; reg.HostID != "host-1" || reg.Token != fs.token {
		t.Errorf("second registration = %+v, want host-1 with the token", reg)
	}
	eventually(t, 15*time.Second, "the new secret saved", func() bool {
		id, err := loadIdentity(dataDir)
		return err == nil && id.HostID == "host-1" && id.Secret == "secret-2"
	})
	_, n := fs.lastHeartbeat()
	eventually(t, 15*time.Second, "heartbeats again", func() bool { _, m := fs.lastHeartbeat(); return m > n })
}

func TestRefusedWithoutToken(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	dataDir := t.TempDir()
	if err := saveIdentity(dataDir, identity{HostID: "host-9", Secret: "stale"}); err != nil {
		t.Fatal(err)
	}
	logs := &testutil.SyncBuffer{}
	cfg := testConfig(t, fs, dataDir)
	cfg.Token = ""
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a := newTestAgent(t, cfg)
	stop := runAgent(t, a)
	eventually(t, 15*time.Second, "several refused calls", func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return fs.unauthorized >= 6
	})
	if n := len(fs.regs()); n != 0 {
		t.Errorf("%d registrations without a token", n)
	}
	// An admin restores the host: the agent carries on.
	fs.mu.Lock()
	fs.hosts["host-9"] = "stale"
	fs.mu.Unlock()
	eventually(t, 15*time.Second, "a heartbeat", func() bool { _, n := fs.lastHeartbeat(); return n > 0 })
	eventually(t, 15*time.Second, "the recovery logged", func() bool { return strings.Contains(logs.String(), "heartbeat works again") })
	stop()
	out := logs.String()
	if n := strings.Count(out, "heartbeat failed; retrying"); n != 1 {
		t.Errorf("the heartbeat failure was logged %d times at warn level, want once:\n%s", n, out)
	}
	if !strings.Contains(out, "--token") {
		t.Errorf("the log does not say how to recover:\n%s", out)
	}
}

func TestRetriesWhileServerFails(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	fs.setFail(true)
	logs := &testutil.SyncBuffer{}
	cfg := testConfig(t, fs, t.TempDir())
	cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	a := newTestAgent(t, cfg)
	runAgent(t, a)
	time.Sleep(500 * time.Millisecond)
	fs.setFail(false)
	eventually(t, 15*time.Second, "a heartbeat", func() bool { _, n := fs.lastHeartbeat(); return n > 0 })
	hash := fs.setDesired()
	fs.waitApplied(t, hash)
	// Then the server fails again for a while.
	fs.setFail(true)
	time.Sleep(500 * time.Millisecond)
	_, n := fs.lastHeartbeat()
	fs.setFail(false)
	eventually(t, 15*time.Second, "heartbeats again", func() bool { _, m := fs.lastHeartbeat(); return m > n })
	out := logs.String()
	if n := strings.Count(out, "registration failed; retrying"); n != 1 {
		t.Errorf("registration failures logged %d times at warn level, want once:\n%s", n, out)
	}
	if n := strings.Count(out, "heartbeat failed; retrying"); n != 1 {
		t.Errorf("heartbeat failures logged %d times at warn level, want once:\n%s", n, out)
	}
}

func TestStartAndStop(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	_, dataDir := startAgent(t, fs)
	spec := shRole("r1", "env; echo hi; exec sleep 1000")
	spec.Launch.Env = map[string]string{"FOO": "bar"}
	fs.setDesired(spec)
	st := fs.waitState(t, "r1", agentapi.StateRunning)
	if st.Pid <= 0 || st.StartSeq != 1 || st.ConfigHash != "h1" || st.StartedAt.IsZero() || st.Restarts != 0 {
		t.Errorf("status = %+v", st)
	}
	logsDir := filepath.Join(dataDir, "roles", "r1", "logs")
	stdout := ""
	eventually(t, 5*time.Second, "the process's output", func() bool {
		stdout = readFile(filepath.Join(logsDir, stdoutLog))
		return strings.Contains(stdout, "hi\n")
	})
	// The environment is the agent's minimal one plus the role's.
	allowed := map[string]bool{"PATH": true, "HOME": true, "LANG": true, "USER": true, "LOGNAME": true, "TZ": true,
		"FOO": true, "PWD": true, "SHLVL": true, "_": true, "OLDPWD": true}
	var keys []string
	for line := range strings.SplitSeq(stdout, "\n") {
		if k, _, ok := strings.Cut(line, "="); ok {
			keys = append(keys, k)
			if !allowed[k] {
				t.Errorf("the process got %s from the agent's environment", k)
			}
		}
	}
	for _, k := range []string{"PATH", "HOME", "LANG", "FOO"} {
		if !slices.Contains(keys, k) {
			t.Errorf("the process did not get %s; it got %v", k, keys)
		}
	}
	if !strings.Contains(stdout, "FOO=bar\n") {
		t.Errorf("FOO is not bar:\n%s", stdout)
	}

	spec.Run = false
	fs.setDesired(spec)
	st2 := fs.waitState(t, "r1", agentapi.StateStopped)
	if alive(st.Pid) {
		t.Errorf("the process %d still runs after the stop", st.Pid)
	}
	if st2.Pid != 0 || st2.StartSeq != 1 {
		t.Errorf("status after stop = %+v", st2)
	}
	if h := fs.states("r1"); !slices.Contains(h, agentapi.StateRunning) || h[len(h)-1] != agentapi.StateStopped {
		t.Errorf("states = %v", h)
	}
	// Run again with the same StartSeq: no start was ordered.
	spec.Run = true
	hash := fs.setDesired(spec)
	fs.waitApplied(t, hash)
	time.Sleep(300 * time.Millisecond)
	if st := fs.waitState(t, "r1", agentapi.StateStopped); st.Pid != 0 {
		t.Errorf("started again without a new StartSeq: %+v", st)
	}
}

func TestStopKillsAfterTimeout(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	_, dataDir := startAgent(t, fs)
	spec := shRole("r1", "trap '' TERM; echo ready; exec sleep 1000")
	spec.StopTimeout = agentapi.Duration(400 * time.Millisecond)
	fs.setDesired(spec)
	st := fs.waitState(t, "r1", agentapi.StateRunning)
	eventually(t, 5*time.Second, "ready", func() bool {
		return strings.Contains(readFile(filepath.Join(dataDir, "roles", "r1", "logs", stdoutLog)), "ready")
	})
	began := time.Now()
	spec.Run = false
	fs.setDesired(spec)
	fs.waitState(t, "r1", agentapi.StateStopped)
	if d := time.Since(began); d < 400*time.Millisecond {
		t.Errorf("a process ignoring SIGTERM stopped after %s, before its stop timeout", d)
	}
	if alive(st.Pid) {
		t.Errorf("the process %d still runs", st.Pid)
	}
	if h := fs.states("r1"); !slices.Contains(h, agentapi.StateStopping) {
		t.Errorf("states = %v, want stopping among them", h)
	}
	exit, ok := runner.ReadExit(filepath.Join(dataDir, "roles", "r1", runDirName))
	if ok && exit.Signal != "" && exit.Signal != "killed" {
		t.Errorf("exit = %+v, want killed by SIGKILL", exit)
	}
}

func TestAutoRestart(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	a := newTestAgent(t, testConfig(t, fs, t.TempDir()))
	a.t.restartMin = 300 * time.Millisecond
	runAgent(t, a)
	spec := shRole("r1", "echo hi; exec sleep 1000")
	spec.AutoRestart = true
	fs.setDesired(spec)
	st := fs.waitState(t, "r1", agentapi.StateRunning)

	killed := time.Now()
	killCommand(t, st.Pid)
	st2 := fs.waitRole(t, "r1", "a restart", func(rs agentapi.RoleStatus) bool {
		return rs.State == agentapi.StateRunning && rs.Pid != st.Pid
	})
	if d := time.Since(killed); d < 300*time.Millisecond {
		t.Errorf("restarted %s after the kill, before the backoff", d)
	}
	if st2.Restarts != 1 || st2.StartSeq != 1 {
		t.Errorf("status after the restart = %+v, want 1 restart of StartSeq 1", st2)
	}
	if h := fs.states("r1"); !slices.Contains(h, agentapi.StateBackoff) {
		t.Errorf("states = %v, want backoff among them", h)
	}

	killCommand(t, st2.Pid)
	st3 := fs.waitRole(t, "r1", "a second restart", func(rs agentapi.RoleStatus) bool {
		return rs.State == agentapi.StateRunning && rs.Pid != st2.Pid
	})
	if st3.Restarts != 2 {
		t.Errorf("restarts = %d, want 2", st3.Restarts)
	}

	// An ordered start resets the count.
	spec.StartSeq = 2
	fs.setDesired(spec)
	st4 := fs.waitRole(t, "r1", "the ordered restart", func(rs agentapi.RoleStatus) bool {
		return rs.State == agentapi.StateRunning && rs.StartSeq == 2
	})
	if st4.Restarts != 0 || st4.Pid == st3.Pid || alive(st3.Pid) {
		t.Errorf("status after the ordered restart = %+v (previous pid %d)", st4, st3.Pid)
	}
}

func TestExitWithoutAutoRestart(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	_, dataDir := startAgent(t, fs)
	counter := filepath.Join(dataDir, "runs.txt")
	spec := shRole("r1", "echo run >> "+counter+"; exit 3")
	fs.setDesired(spec)
	st := fs.waitState(t, "r1", agentapi.StateExited)
	if st.ExitCode == nil || *st.ExitCode != 3 || st.Restarts != 0 || !strings.Contains(st.Message, "code 3") {
		t.Errorf("status = %+v", st)
	}
	time.Sleep(500 * time.Millisecond)
	if st := fs.waitState(t, "r1", agentapi.StateExited); st.Restarts != 0 {
		t.Errorf("restarted without AutoRestart: %+v", st)
	}
	if n := strings.Count(readFile(counter), "run"); n != 1 {
		t.Fatalf("ran %d times, want once", n)
	}

	spec.StartSeq = 2
	fs.setDesired(spec)
	fs.waitRole(t, "r1", "exited again for StartSeq 2", func(rs agentapi.RoleStatus) bool {
		return rs.State == agentapi.StateExited && rs.StartSeq == 2
	})
	if n := strings.Count(readFile(counter), "run"); n != 2 {
		t.Errorf("ran %d times, want twice", n)
	}
}

func TestConfigFiles(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	_, dataDir := startAgent(t, fs)
	roleDir := filepath.Join(dataDir, "roles", "r1")
	spec := shRole("r1", "cat ../conf/a.conf; exec sleep 1000")
	spec.Files = []agentapi.File{
		{Path: "a.conf", Content: "v1\n"},
		{Path: "sub/b.txt", Content: "secret\n", Mode: 0o600},
	}
	fs.setDesired(spec)
	st := fs.waitState(t, "r1", agentapi.StateRunning)
	eventually(t, 5*time.Second, "the process read its configuration", func() bool {
		return strings.Contains(readFile(filepath.Join(roleDir, "logs", stdoutLog)), "v1")
	})
	if fi, err := os.Stat(filepath.Join(roleDir, "conf", "sub", "b.txt")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("sub/b.txt: %v, %v; want mode 0600", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(roleDir, "conf", "a.conf")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("a.conf: %v, %v; want mode 0644", fi, err)
	}

	// A new configuration is not written while the process runs.
	spec.Files = []agentapi.File{{Path: "a.conf", Content: "v2\n"}}
	spec.ConfigHash = "h2"
	hash := fs.setDesired(spec)
	fs.waitApplied(t, hash)
	time.Sleep(300 * time.Millisecond)
	st2 := fs.waitState(t, "r1", agentapi.StateRunning)
	if st2.Pid != st.Pid || st2.ConfigHash != "h1" {
		t.Errorf("after a configuration change: %+v, want pid %d and config h1", st2, st.Pid)
	}
	if got := readFile(filepath.Join(roleDir, "conf", "a.conf")); got != "v1\n" {
		t.Errorf("a.conf = %q while the process runs, want v1", got)
	}

	// A restart writes it, replacing the directory's contents.
	spec.StartSeq = 2
	fs.setDesired(spec)
	st3 := fs.waitRole(t, "r1", "the restart", func(rs agentapi.RoleStatus) bool {
		return rs.State == agentapi.StateRunning && rs.StartSeq == 2
	})
	if st3.ConfigHash != "h2" || st3.Pid == st.Pid {
		t.Errorf("after the restart: %+v", st3)
	}
	if got := readFile(filepath.Join(roleDir, "conf", "a.conf")); got != "v2\n" {
		t.Errorf("a.conf = %q after the restart, want v2", got)
	}
	if _, err := os.Stat(filepath.Join(roleDir, "conf", "sub")); !os.IsNotExist(err) {
		t.Errorf("sub/ of the old configuration is still there: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(roleDir, ".conf-*")); len(left) > 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}

func TestRemovedRole(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	_, dataDir := startAgent(t, fs)
	spec := shRole("r1", "echo hi; exec sleep 1000")
	spec.Launch.Dirs = []string{"data/r1"}
	spec.Files = []agentapi.File{{Path: "a.conf", Content: "x"}}
	other := shRole("r2", "exec sleep 1000")
	fs.setDesired(spec, other)
	st := fs.waitState(t, "r1", agentapi.StateRunning)
	fs.waitState(t, "r2", agentapi.StateRunning)
	if fi, err := os.Stat(filepath.Join(dataDir, "data", "r1")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v, %v", fi, err)
	}

	hash := fs.setDesired(other)
	fs.waitApplied(t, hash)
	eventually(t, 10*time.Second, "r1 forgotten", func() bool {
		hb, _ := fs.lastHeartbeat()
		return len(hb.Roles) == 1 && hb.Roles[0].Name == "r2"
	})
	roleDir := filepath.Join(dataDir, "roles", "r1")
	eventually(t, 10*time.Second, "r1's directories removed", func() bool {
		_, err1 := os.Stat(filepath.Join(roleDir, runDirName))
		_, err2 := os.Stat(filepath.Join(roleDir, confDirName))
		_, err3 := os.Stat(filepath.Join(roleDir, stateFile))
		return os.IsNotExist(err1) && os.IsNotExist(err2) && os.IsNotExist(err3)
	})
	if alive(st.Pid) {
		t.Errorf("the process %d of the removed role still runs", st.Pid)
	}
	if !strings.Contains(readFile(filepath.Join(roleDir, "logs", stdoutLog)), "hi") {
		t.Errorf("the removed role's logs are gone")
	}
	if _, err := os.Stat(filepath.Join(dataDir, "data", "r1")); err != nil {
		t.Errorf("the removed role's data directory is gone: %v", err)
	}

	// The role comes back: it starts afresh.
	fs.setDesired(spec, other)
	st2 := fs.waitState(t, "r1", agentapi.StateRunning)
	if st2.Pid == st.Pid || st2.Restarts != 0 {
		t.Errorf("the role that came back: %+v", st2)
	}
}

func TestReattachAfterAgentRestart(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	dataDir := t.TempDir()
	a := newTestAgent(t, testConfig(t, fs, dataDir))
	stopA := runAgent(t, a)
	r1 := shRole("r1", "echo hi; exec sleep 1000")
	r2 := shRole("r2", "exec sleep 1000")
	auto := shRole("r3", "exec sleep 1000")
	auto.AutoRestart = true
	hash := fs.setDesired(r1, r2, auto)
	st1 := fs.waitState(t, "r1", agentapi.StateRunning)
	st2 := fs.waitState(t, "r2", agentapi.StateRunning)
	st3 := fs.waitState(t, "r3", agentapi.StateRunning)
	stopA()
	if !alive(st1.Pid) || !alive(st2.Pid) || !alive(st3.Pid) {
		t.Fatal("role processes did not outlive the agent")
	}
	// While no agent runs, r2's and r3's processes die.
	killCommand(t, st2.Pid)
	killCommand(t, st3.Pid)
	eventually(t, 5*time.Second, "r2 and r3 gone", func() bool { return !alive(st2.Pid) && !alive(st3.Pid) })

	_, n := fs.lastHeartbeat()
	cfg := testConfig(t, fs, dataDir)
	cfg.Token = ""
	b := newTestAgent(t, cfg)
	runAgent(t, b)
	eventually(t, 15*time.Second, "a heartbeat of the new agent", func() bool { _, m := fs.lastHeartbeat(); return m > n })
	fs.waitApplied(t, hash)
	got1 := fs.waitState(t, "r1", agentapi.StateRunning)
	if got1.Pid != st1.Pid || got1.Restarts != 0 || got1.StartSeq != 1 || got1.ConfigHash != "h1" || !got1.StartedAt.Equal(st1.StartedAt) {
		t.Errorf("r1 after the agent's restart: %+v, want pid %d started at %s", got1, st1.Pid, st1.StartedAt)
	}
	got2 := fs.waitState(t, "r2", agentapi.StateExited)
	if !strings.Contains(got2.Message, "killed") || got2.Restarts != 0 {
		t.Errorf("r2 after the agent's restart: %+v", got2)
	}
	got3 := fs.waitRole(t, "r3", "r3 restarted", func(rs agentapi.RoleStatus) bool {
		return rs.State == agentapi.StateRunning && rs.Pid != st3.Pid
	})
	if got3.Restarts != 1 {
		t.Errorf("r3 after the agent's restart: %+v, want 1 restart", got3)
	}
	time.Sleep(300 * time.Millisecond)
	if got := fs.waitState(t, "r1", agentapi.StateRunning); got.Pid != st1.Pid {
		t.Errorf("r1 was restarted: %+v", got)
	}
	if got := fs.waitState(t, "r2", agentapi.StateExited); got.Pid != 0 {
		t.Errorf("r2 was restarted: %+v", got)
	}
}

// TestReattachAfterAgentKill kills an agent process with SIGKILL; the
// next agent on its data directory takes its roles over.
func TestReattachAfterAgentKill(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	dataDir := t.TempDir()
	killRolesAtCleanup(t, dataDir)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envAgentDir+"="+dataDir, envAgentServer+"="+fs.srv.URL,
		envAgentWrapper+"="+wrapperExe, "GORACE=atexit_sleep_ms=0")
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	hash := fs.setDesired(shRole("r1", "exec sleep 1000"))
	st := fs.waitState(t, "r1", agentapi.StateRunning)
	fs.waitApplied(t, hash)

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	if !alive(st.Pid) {
		t.Fatalf("the role process %d died with its agent", st.Pid)
	}
	_, n := fs.lastHeartbeat()
	cfg := testConfig(t, fs, dataDir)
	cfg.Token = ""
	b := newTestAgent(t, cfg)
	runAgent(t, b)
	eventually(t, 15*time.Second, "a heartbeat of the new agent", func() bool { _, m := fs.lastHeartbeat(); return m > n })
	fs.waitApplied(t, hash)
	time.Sleep(200 * time.Millisecond)
	got := fs.waitState(t, "r1", agentapi.StateRunning)
	if got.Pid != st.Pid || got.Restarts != 0 || !got.StartedAt.Equal(st.StartedAt) {
		t.Errorf("after the agent was killed: %+v, want pid %d, started at %s", got, st.Pid, st.StartedAt)
	}
	if len(fs.regs()) != 1 {
		t.Errorf("%d registrations, want 1", len(fs.regs()))
	}
}

// TestInterruptedStartIsRedone stops the agent while a start waits for its
// init step; the next agent does the start.
func TestInterruptedStartIsRedone(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	dataDir := t.TempDir()
	a := newTestAgent(t, testConfig(t, fs, dataDir))
	stopA := runAgent(t, a)
	flag := filepath.Join(dataDir, "go-on")
	done := filepath.Join(dataDir, "initialized")
	spec := shRole("r1", "exec sleep 1000")
	spec.Init = &agentapi.Init{Creates: done, Command: []string{"/bin/sh", "-c",
		"while [ ! -f " + flag + " ]; do sleep 0.02; done; touch " + done}}
	fs.setDesired(spec)
	fs.waitState(t, "r1", agentapi.StateStarting)
	stopA()
	if err := os.WriteFile(flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, fs, dataDir)
	cfg.Token = ""
	b := newTestAgent(t, cfg)
	runAgent(t, b)
	st := fs.waitState(t, "r1", agentapi.StateRunning)
	if st.StartSeq != 1 || st.Restarts != 0 {
		t.Errorf("status = %+v", st)
	}
}

func TestInitRunsOnce(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	_, dataDir := startAgent(t, fs)
	marker := filepath.Join(dataDir, "data", "formatted")
	spec := shRole("r1", "exec sleep 1000")
	spec.Launch.Dirs = []string{"data"}
	spec.Init = &agentapi.Init{Creates: "data/formatted", Command: []string{"/bin/sh", "-c", "echo init-ran; touch " + marker}}
	fs.setDesired(spec)
	fs.waitState(t, "r1", agentapi.StateRunning)
	stderr := filepath.Join(dataDir, "roles", "r1", "logs", stderrLog)
	if n := strings.Count(readFile(stderr), "\ninit-ran\n"); n != 1 {
		t.Fatalf("init ran %d times, want once; stderr.log:\n%s", n, readFile(stderr))
	}
	spec.StartSeq = 2
	fs.setDesired(spec)
	fs.waitRole(t, "r1", "the restart", func(rs agentapi.RoleStatus) bool {
		return rs.State == agentapi.StateRunning && rs.StartSeq == 2
	})
	if n := strings.Count(readFile(stderr), "\ninit-ran\n"); n != 1 {
		t.Errorf("init ran %d times after a restart, want once", n)
	}

	bad := shRole("r2", "exec sleep 1000")
	bad.Init = &agentapi.Init{Creates: filepath.Join(dataDir, "never"), Command: []string{"/bin/sh", "-c", "echo boom-output; exit 4"}}
	fs.setDesired(spec, bad)
	st := fs.waitState(t, "r2", agentapi.StateFailed)
	if !strings.Contains(st.Message, "boom-output") || !strings.Contains(st.Message, "init failed") || st.Pid != 0 {
		t.Errorf("status of the failed init = %+v", st)
	}
}

func TestMissingRuntime(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	startAgent(t, fs)
	spec := shRole("r1", "")
	spec.Launch = agentapi.Launch{Runtime: agentapi.RuntimeSpark, MainClass: "org.apache.spark.deploy.master.Master"}
	bad := shRole("r2", "")
	bad.Launch.Command = []string{"/nonexistent/program"}
	fs.setDesired(spec, bad)
	st := fs.waitState(t, "r1", agentapi.StateFailed)
	if !strings.Contains(st.Message, "spark runtime is missing") || !strings.Contains(st.Message, "no Spark in tests") {
		t.Errorf("status = %+v", st)
	}
	st2 := fs.waitState(t, "r2", agentapi.StateFailed)
	if !strings.Contains(st2.Message, "/nonexistent/program") {
		t.Errorf("status = %+v", st2)
	}
}

// TestSparkRole starts a Spark role with a fake SPARK_HOME whose
// spark-class prints what it was given.
func TestSparkRole(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	dataDir := t.TempDir()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho \"args: $*\"\nenv\nexec sleep 1000\n"
	if err := os.WriteFile(filepath.Join(home, "bin", "spark-class"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	a := newTestAgent(t, testConfig(t, fs, dataDir))
	a.discover = func(context.Context) runtimes {
		return runtimes{spark: &sparkRuntime{home: home, javaHome: "/opt/java", version: "4.1.0"}, hadoopErr: "none"}
	}
	runAgent(t, a)
	spec := shRole("m", "")
	spec.Launch = agentapi.Launch{Runtime: agentapi.RuntimeSpark, MainClass: "org.apache.spark.deploy.master.Master",
		Args: []string{"--host", "127.0.0.1"}, HeapMB: 256, Env: map[string]string{"SPARK_LOCAL_IP": "127.0.0.1"}}
	fs.setDesired(spec)
	fs.waitState(t, "m", agentapi.StateRunning)
	roleDir := filepath.Join(dataDir, "roles", "m")
	var out string
	eventually(t, 5*time.Second, "spark-class's output", func() bool {
		out = readFile(filepath.Join(roleDir, "logs", stdoutLog))
		return strings.Contains(out, "SPARK_HOME=")
	})
	for _, want := range []string{
		"args: org.apache.spark.deploy.master.Master --host 127.0.0.1\n",
		"SPARK_CONF_DIR=" + filepath.Join(roleDir, "conf") + "\n",
		"SPARK_LOG_DIR=" + filepath.Join(roleDir, "logs") + "\n",
		"SPARK_DAEMON_MEMORY=256m\n",
		"SPARK_NO_DAEMONIZE=1\n",
		"SPARK_HOME=" + home + "\n",
		"JAVA_HOME=/opt/java\n",
		"SPARK_LOCAL_IP=127.0.0.1\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("spark-class's output lacks %q:\n%s", want, out)
		}
	}
	hb, _ := fs.lastHeartbeat()
	if hb.Facts.Runtimes[agentapi.RuntimeSpark] != "4.1.0" || hb.Facts.Problems[agentapi.RuntimeHadoop] != "none" {
		t.Errorf("facts = %+v", hb.Facts)
	}
}

func TestProbes(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	startAgent(t, fs)
	addr := freeAddr(t)
	closed := freeAddr(t)
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	spec := shRole("web", "")
	spec.Launch.Command = []string{self}
	spec.Launch.Env = map[string]string{envProbeServer: addr, "GORACE": "atexit_sleep_ms=0"}
	spec.Probes = []agentapi.Probe{
		{Name: "jmx", URL: "http://" + addr + "/jmx", Fields: map[string]string{
			"live": "beans.0.NumLiveDataNodes", "ha": "beans.0.tag.HAState",
		}},
		{Name: "partial", URL: "http://" + addr + "/jmx", Fields: map[string]string{
			"live": "beans.0.NumLiveDataNodes", "missing": "beans.3.x",
		}},
		{Name: "plain", URL: "http://" + addr + "/text"},
		{Name: "notjson", URL: "http://" + addr + "/text", Fields: map[string]string{"x": "x"}},
		{Name: "broken", URL: "http://" + addr + "/broken"},
		{Name: "down", URL: "http://" + closed + "/"},
	}
	fs.setDesired(spec)
	st := fs.waitRole(t, "web", "the probes' results", func(rs agentapi.RoleStatus) bool {
		return rs.State == agentapi.StateRunning && rs.Probes["jmx"].OK
	})
	jmx := st.Probes["jmx"]
	if jmx.Error != "" || jmx.At.IsZero() {
		t.Errorf("jmx = %+v", jmx)
	}
	wantFields := map[string]any{"live": float64(3), "ha": "active"}
	if b, w := mustJSON(t, jmx.Fields), mustJSON(t, wantFields); b != w {
		t.Errorf("jmx fields = %s, want %s", b, w)
	}
	partial := st.Probes["partial"]
	if partial.OK || !strings.Contains(partial.Error, "missing (beans.3.x)") {
		t.Errorf("partial = %+v, want not OK for the missing field", partial)
	}
	if b, w := mustJSON(t, partial.Fields), mustJSON(t, map[string]any{"live": float64(3), "missing": nil}); b != w {
		t.Errorf("partial fields = %s, want %s", b, w)
	}
	if p := st.Probes["plain"]; !p.OK || p.Error != "" {
		t.Errorf("plain = %+v", p)
	}
	for _, name := range []string{"notjson", "broken", "down"} {
		if p := st.Probes[name]; p.OK || p.Error == "" {
			t.Errorf("%s = %+v, want not OK with an error", name, p)
		}
	}
	if p := st.Probes["broken"]; !strings.Contains(p.Error, "500") {
		t.Errorf("broken = %+v", p)
	}

	// No probe results once the process is stopped.
	spec.Run = false
	fs.setDesired(spec)
	if st := fs.waitState(t, "web", agentapi.StateStopped); len(st.Probes) != 0 {
		t.Errorf("probes of a stopped role: %+v", st.Probes)
	}
}

func TestLogRotation(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	dataDir := t.TempDir()
	cfg := testConfig(t, fs, dataDir)
	cfg.LogMaxBytes, cfg.LogKeep = 2000, 2
	a := newTestAgent(t, cfg)
	stop := runAgent(t, a)
	line := strings.Repeat("x", 99)
	fs.setDesired(shRole("r1", "while :; do echo "+line+"; sleep 0.01; done"))
	fs.waitState(t, "r1", agentapi.StateRunning)
	logs := filepath.Join(dataDir, "roles", "r1", "logs")
	eventually(t, 20*time.Second, "two rotations", func() bool {
		_, err := os.Stat(filepath.Join(logs, stdoutLog+".2"))
		return err == nil
	})
	stop() // no rotation under way while the files are checked
	if _, err := os.Stat(filepath.Join(logs, stdoutLog+".3")); !os.IsNotExist(err) {
		t.Errorf("more rotated files than LogKeep: %v", err)
	}
	for _, name := range []string{stdoutLog + ".1", stdoutLog + ".2"} {
		if fi, err := os.Stat(filepath.Join(logs, name)); err != nil || fi.Size() < 2000 {
			t.Errorf("%s: %v, %v", name, fi, err)
		}
	}
	// The process still writes to stdout.log, from its start.
	eventually(t, 5*time.Second, "new output in stdout.log", func() bool {
		b := readFile(filepath.Join(logs, stdoutLog))
		return strings.HasPrefix(strings.TrimLeft(b, "\x00"), line) && len(b) > 0
	})
}

func TestRotate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "stdout.log")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 1; i <= 4; i++ {
		fmt.Fprintf(f, "generation %d\n", i)
		if err := rotate(path, 3); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Fprintf(f, "generation 5\n") // through the fd opened before the rotations
	want := map[string]string{
		"stdout.log":   "generation 5\n",
		"stdout.log.1": "generation 4\n",
		"stdout.log.2": "generation 3\n",
		"stdout.log.3": "generation 2\n",
	}
	for name, content := range want {
		if got := readFile(filepath.Join(dir, name)); got != content {
			t.Errorf("%s = %q, want %q", name, got, content)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "stdout.log.4")); !os.IsNotExist(err) {
		t.Errorf("stdout.log.4 exists: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A refresh rewrites the refreshable file of the running role and runs the
// refresh command, without a restart; a failed refresh is reported and not
// retried for the same hash.
func TestRefresh(t *testing.T) {
	t.Parallel()
	fs := newFakeServer(t)
	_, dataDir := startAgent(t, fs)
	conf := filepath.Join(dataDir, "roles", "r1", "conf")
	spec := shRole("r1", "exec sleep 1000")
	spec.Files = []agentapi.File{{Path: "app.conf", Content: "a"}, {Path: "exclude", Content: "one"}}
	spec.Refresh = &agentapi.Refresh{Files: []string{"exclude"}, Command: []string{"/bin/sh", "-c", "cat ../conf/exclude >> ../refreshed"}, Hash: "h1"}
	fs.setDesired(spec)
	first := fs.waitState(t, "r1", agentapi.StateRunning)
	if first.RefreshHash != "h1" {
		t.Fatalf("after the start: refresh hash %q, want h1", first.RefreshHash)
	}
	spec.Files[1].Content, spec.Refresh.Hash = "two", "h2"
	fs.setDesired(spec)
	st := fs.waitRole(t, "r1", "the refresh", func(rs agentapi.RoleStatus) bool { return rs.RefreshHash == "h2" })
	if st.Pid != first.Pid {
		t.Errorf("pid %d before the refresh, %d after: restarted", first.Pid, st.Pid)
	}
	if got := readFile(filepath.Join(conf, "exclude")); got != "two" {
		t.Errorf("exclude = %q", got)
	}
	if got := readFile(filepath.Join(dataDir, "roles", "r1", "refreshed")); got != "two" {
		t.Errorf("the refresh command saw %q", got)
	}
	spec.Files[1].Content, spec.Refresh.Hash = "three", "h3"
	spec.Refresh.Command = []string{"/bin/sh", "-c", "echo refresh-broke; exit 3"}
	fs.setDesired(spec)
	st = fs.waitRole(t, "r1", "the failed refresh", func(rs agentapi.RoleStatus) bool { return strings.HasPrefix(rs.Message, "refresh failed") })
	if st.RefreshHash != "h2" || !strings.Contains(st.Message, "refresh-broke") || st.Pid != first.Pid {
		t.Errorf("after a failed refresh: %+v", st)
	}
}
