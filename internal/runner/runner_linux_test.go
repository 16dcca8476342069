package runner

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/testutil"
)

const noIsolationReason = "simulated: the test disabled isolation"

// testRunner returns a runner whose wrapper is the test binary. A binary
// built with -race otherwise sleeps 1s when it exits.
func testRunner(log *slog.Logger) *Runner {
	r := New(os.Args[0], log)
	r.extraEnv = []string{"GORACE=atexit_sleep_ms=0"}
	return r
}

// newRunner returns a runner using the test binary as its wrapper, with or
// without isolation (skipping the test when isolation is wanted but
// unavailable), and the buffer its log goes to.
func newRunner(t *testing.T, isolated bool) (*Runner, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	r := testRunner(slog.New(slog.NewTextHandler(logs, nil)))
	if !isolated {
		r.setIsolation(false, noIsolationReason)
	} else if ok, why := r.Isolation(); !ok {
		t.Skip(why)
	}
	return r, logs
}

// modes are the two ways a run goes: with and without isolation.
var modes = []struct {
	name     string
	isolated bool
}{{"isolated", true}, {"plain", false}}

// newSpec returns a spec running script with /bin/sh; its output files are
// outside its directory.
func newSpec(t *testing.T, script string) Spec {
	t.Helper()
	logs := t.TempDir()
	return Spec{
		Dir:     t.TempDir(),
		Command: []string{"/bin/sh", "-c", script},
		Env:     []string{"PATH=/usr/bin:/bin"},
		Cwd:     t.TempDir(),
		Stdout:  filepath.Join(logs, "stdout"),
		Stderr:  filepath.Join(logs, "stderr"),
	}
}

// start starts spec and makes sure the run is gone when the test ends.
func start(t *testing.T, r *Runner, spec Spec) *Process {
	t.Helper()
	p, err := r.Start(spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(0); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return p
}

func wait(t *testing.T, p *Process) Exit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	e, err := p.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return e
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// descendants returns the host pids of the live descendants of pid.
func descendants(t *testing.T, pid int) []int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	children := map[int][]int{}
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if f[0] == "Z" {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], n)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		kids := children[queue[0]]
		queue = append(queue[1:], kids...)
		out = append(out, kids...)
	}
	return out
}

// running reports whether pid is a live (not zombie) process.
func running(pid int) bool {
	state, _, err := procStat(pid)
	return err == nil && state != 'Z' && state != 'X'
}

func TestExitCodesOutputEnvCwd(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			isolated := m.isolated
			r, _ := newRunner(t, isolated)

			spec := newSpec(t, `pwd; echo "foo=$FOO"; echo oops >&2; exit 3`)
			spec.Env = append(spec.Env, "FOO=bar baz")
			if err := os.WriteFile(spec.Stdout, []byte("earlier\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			p := start(t, r, spec)
			if p.Pid() <= 0 || p.Isolated() != isolated {
				t.Fatalf("Pid %d, Isolated %v", p.Pid(), p.Isolated())
			}
			if e := wait(t, p); e != (Exit{Code: 3, Known: true}) {
				t.Fatalf("exit = %+v, want code 3", e)
			}
			if got, want := readFile(t, spec.Stdout), "earlier\n"+spec.Cwd+"\nfoo=bar baz\n"; got != want {
				t.Errorf("stdout = %q, want %q (appended)", got, want)
			}
			if got := readFile(t, spec.Stderr); got != "oops\n" {
				t.Errorf("stderr = %q", got)
			}
			if e, ok := ReadExit(spec.Dir); !ok || e.Code != 3 {
				t.Errorf("ReadExit = %+v, %v", e, ok)
			}

			// The environment is exactly the given one: no marker variable.
			spec = newSpec(t, "")
			spec.Command = []string{"/usr/bin/env"}
			spec.Env = []string{"A=1", "B=two words", envWrapper + "=1"}
			p = start(t, r, spec)
			if e := wait(t, p); e != (Exit{Code: 0, Known: true}) {
				t.Fatalf("exit = %+v, want 0", e)
			}
			if got, want := readFile(t, spec.Stdout), "A=1\nB=two words\n"; got != want {
				t.Errorf("environment = %q, want %q", got, want)
			}
			if fi, err := os.Stat(spec.Stdout); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("stdout file mode: %v %v", fi.Mode(), err)
			}

			// Only stdin, stdout and stderr are inherited (ls opens fd 3).
			spec = newSpec(t, "")
			spec.Command = []string{"/bin/ls", "/proc/self/fd"}
			spec.Stderr = spec.Stdout
			p = start(t, r, spec)
			if e := wait(t, p); e != (Exit{Code: 0, Known: true}) {
				t.Fatalf("exit = %+v, want 0", e)
			}
			if got, want := readFile(t, spec.Stdout), "0\n1\n2\n3\n"; got != want {
				t.Errorf("open fds = %q, want %q", got, want)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	r, _ := newRunner(t, false)
	for name, mod := range map[string]func(*Spec){
		"relative command": func(s *Spec) { s.Command = []string{"sh", "-c", "true"} },
		"no command":       func(s *Spec) { s.Command = nil },
		"no dir":           func(s *Spec) { s.Dir = filepath.Join(s.Dir, "missing") },
		"bad credential":   func(s *Spec) { s.Secrets = map[string]map[string]string{"../x": {"k": "v"}} },
		"bad key":          func(s *Spec) { s.Secrets = map[string]map[string]string{"c": {"a/b": "v"}} },
		"dot key":          func(s *Spec) { s.Secrets = map[string]map[string]string{"c": {"..": "v"}} },
		"missing binary":   func(s *Spec) { s.Command = []string{"/nonexistent/binary"} },
		"missing cwd":      func(s *Spec) { s.Cwd = "/nonexistent/dir" },
	} {
		t.Run(name, func(t *testing.T) {
			spec := newSpec(t, "true")
			mod(&spec)
			p, err := r.Start(spec)
			if err == nil {
				_ = p.Stop(0)
				t.Fatal("Start succeeded")
			}
			if errors.Is(err, ErrNoIsolation) {
				t.Fatalf("Start: %v (validation should come first)", err)
			}
			t.Log(err)
		})
	}
}

func TestSecretsAreIsolated(t *testing.T) {
	r, logs := newRunner(t, true)
	const value1, value2 = "s3cr3t-value-AKIA1234", "other-s3cr3t-5678"
	sync := t.TempDir()

	// Run A holds secrets and stays alive until released.
	a := newSpec(t, `cat "$SECRETS/s3/access_key"; echo; stat -c %a "$SECRETS/s3/access_key";
		ls "$SECRETS"; touch "$SYNC/a-ready"
		while [ ! -e "$SYNC/a-release" ]; do sleep 0.02; done`)
	a.Env = append(a.Env, "SECRETS="+SecretsRoot, "SYNC="+sync)
	a.Secrets = map[string]map[string]string{"s3": {"access_key": value1, "region": "eu"}, "db": {"password": "x"}}
	pa := start(t, r, a)
	waitFor(t, "run A", func() bool { return exists(filepath.Join(sync, "a-ready")) })

	// The host sees an empty directory and no mount.
	if ents, err := os.ReadDir(SecretsRoot); err != nil || len(ents) != 0 {
		t.Errorf("host %s: %v entries, %v", SecretsRoot, ents, err)
	}
	if strings.Contains(readFile(t, "/proc/self/mountinfo"), SecretsRoot) {
		t.Error("secrets tmpfs visible in the host's mountinfo")
	}
	// ... while run A's mount namespace has it.
	if !strings.Contains(readFile(t, "/proc/"+strconv.Itoa(pa.Pid())+"/mountinfo"), SecretsRoot+" ") {
		t.Error("no secrets tmpfs in run A's mountinfo")
	}
	// No process of run A has a secret in its argv or environment.
	for _, pid := range append(descendants(t, pa.Pid()), pa.Pid()) {
		for _, f := range []string{"cmdline", "environ"} {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + f)
			if bytes.Contains(b, []byte(value1)) {
				t.Errorf("secret in /proc/%d/%s", pid, f)
			}
		}
	}

	// Concurrent runs, with other secrets or none, do not see run A's.
	probe := `ls -R "$SECRETS"; cat "$SECRETS/s3/access_key" || echo "no access"`
	b := newSpec(t, probe)
	b.Env = append(b.Env, "SECRETS="+SecretsRoot)
	b.Secrets = map[string]map[string]string{"other": {"k": value2}}
	c := newSpec(t, probe)
	c.Env = b.Env
	pb, pc := start(t, r, b), start(t, r, c)
	for _, run := range []struct {
		spec Spec
		p    *Process
	}{{b, pb}, {c, pc}} {
		if e := wait(t, run.p); e != (Exit{Code: 0, Known: true}) {
			t.Errorf("exit = %+v", e)
		}
		out := readFile(t, run.spec.Stdout)
		if strings.Contains(out, value1) || strings.Contains(out, "s3") || !strings.Contains(out, "no access") {
			t.Errorf("a concurrent run saw run A's secrets:\n%s", out)
		}
	}
	if out := readFile(t, b.Stdout); !strings.Contains(out, "other:\nk\n") {
		t.Errorf("run B does not see its own secret:\n%s", out)
	}

	if err := os.WriteFile(filepath.Join(sync, "a-release"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if e := wait(t, pa); e != (Exit{Code: 0, Known: true}) {
		t.Errorf("exit of A = %+v", e)
	}
	if got, want := readFile(t, a.Stdout), value1+"\n400\ndb\ns3\n"; got != want {
		t.Errorf("run A's stdout = %q, want %q", got, want)
	}

	// Afterwards: nothing mounted, no secret in the run directories or logs.
	if strings.Contains(readFile(t, "/proc/self/mountinfo"), SecretsRoot) {
		t.Error("secrets tmpfs left in the host's mountinfo")
	}
	for _, dir := range []string{a.Dir, b.Dir} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if content := readFile(t, path); strings.Contains(content, value1) || strings.Contains(content, value2) {
				t.Errorf("secret in %s", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(logs.String(), value1) || strings.Contains(logs.String(), value2) {
		t.Errorf("secret in the log:\n%s", logs)
	}
}

func TestSecretsNeedIsolation(t *testing.T) {
	r, _ := newRunner(t, false)
	spec := newSpec(t, "true")
	spec.Secrets = map[string]map[string]string{"c": {"k": "v"}}
	_, err := r.Start(spec)
	if !errors.Is(err, ErrNoIsolation) || !strings.Contains(err.Error(), noIsolationReason) {
		t.Fatalf("Start = %v, want ErrNoIsolation with the reason", err)
	}
	if exists(filepath.Join(spec.Dir, PidFile)) {
		t.Error("a wrapper was started")
	}

	// Without secrets, the run works, without namespaces, in its own
	// process group.
	sync := t.TempDir()
	spec = newSpec(t, `echo $$ > "$SYNC/pid.tmp"; mv "$SYNC/pid.tmp" "$SYNC/pid"; while [ ! -e "$SYNC/go" ]; do sleep 0.02; done`)
	spec.Env = append(spec.Env, "SYNC="+sync)
	p := start(t, r, spec)
	if p.Isolated() {
		t.Fatal("run is isolated")
	}
	waitFor(t, "the command", func() bool { return exists(filepath.Join(sync, "pid")) })
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(sync, "pid"))))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(descendants(t, p.Pid()), pid) {
		t.Errorf("the command's pid %d (as it sees it) is not a host pid under the wrapper", pid)
	}
	pgid, err := syscall.Getpgid(pid)
	if err != nil || pgid != pid || pgid == syscall.Getpgrp() {
		t.Errorf("command pgid = %d, %v; want its own group %d", pgid, err, pid)
	}
	if err := os.WriteFile(filepath.Join(sync, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if e := wait(t, p); e != (Exit{Code: 0, Known: true}) {
		t.Errorf("exit = %+v", e)
	}
}

func TestStopKillsTree(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			isolated := m.isolated
			for _, tc := range []struct {
				name, script string
				want         Exit
			}{
				// SIGTERM reaches the whole process group, the command dies of it.
				{"obeys", `sleep 300 & sleep 300 & touch "$SYNC/ready"; wait`,
					Exit{Code: -1, Signal: "terminated", Known: true}},
				// Everything ignores SIGTERM: after grace, SIGKILL.
				{"ignores TERM", `trap "" TERM; sleep 300 & sleep 300 & touch "$SYNC/ready"; wait; wait`,
					Exit{Code: -1, Signal: "killed"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r, _ := newRunner(t, isolated)
					sync := t.TempDir()
					spec := newSpec(t, tc.script)
					spec.Env = append(spec.Env, "SYNC="+sync)
					p := start(t, r, spec)
					waitFor(t, "the command", func() bool { return exists(filepath.Join(sync, "ready")) })
					var tree []int
					waitFor(t, "the grandchildren", func() bool {
						tree = descendants(t, p.Pid())
						return len(tree) >= 3
					})

					begin := time.Now()
					if err := p.Stop(300 * time.Millisecond); err != nil {
						t.Fatalf("Stop: %v", err)
					}
					if err := p.Stop(300 * time.Millisecond); err != nil {
						t.Fatalf("second Stop: %v", err)
					}
					t.Logf("stopped in %s", time.Since(begin))
					if e := wait(t, p); e != tc.want {
						t.Errorf("exit = %+v, want %+v", e, tc.want)
					}
					waitFor(t, "the tree to die", func() bool {
						for _, pid := range tree {
							if running(pid) {
								return false
							}
						}
						return true
					})
				})
			}
		})
	}
}

func TestAttach(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			isolated := m.isolated
			r, _ := newRunner(t, isolated)
			sync := t.TempDir()
			spec := newSpec(t, `while [ ! -e "$SYNC/go" ]; do sleep 0.02; done; exit 7`)
			spec.Env = append(spec.Env, "SYNC="+sync)
			p := start(t, r, spec)

			// A restarted server: another Runner, same directory.
			r2, _ := newRunner(t, isolated)
			p2, err := r2.Attach(spec.Dir)
			if err != nil {
				t.Fatalf("Attach: %v", err)
			}
			if p2.Pid() != p.Pid() || p2.Isolated() != isolated {
				t.Fatalf("attached pid %d isolated %v, want %d", p2.Pid(), p2.Isolated(), p.Pid())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			if _, err := p2.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Wait with a short context = %v", err)
			}
			cancel()
			if err := os.WriteFile(filepath.Join(sync, "go"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			want := Exit{Code: 7, Known: true}
			if e := wait(t, p2); e != want {
				t.Errorf("attached exit = %+v", e)
			}
			if e := wait(t, p); e != want {
				t.Errorf("started exit = %+v", e)
			}

			if _, err := r2.Attach(spec.Dir); !errors.Is(err, ErrGone) {
				t.Errorf("Attach to a finished run = %v, want ErrGone", err)
			}
			if e, ok := ReadExit(spec.Dir); !ok || e != want {
				t.Errorf("ReadExit = %+v, %v", e, ok)
			}
			if _, err := r2.Attach(t.TempDir()); !errors.Is(err, ErrGone) {
				t.Errorf("Attach without a pid file = %v, want ErrGone", err)
			}
			if _, ok := ReadExit(t.TempDir()); ok {
				t.Error("ReadExit found an exit file in an empty directory")
			}
		})
	}
}

func TestAttachStop(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			isolated := m.isolated
			r, _ := newRunner(t, isolated)
			sync := t.TempDir()
			spec := newSpec(t, `trap "" TERM; sleep 300 & touch "$SYNC/ready"; wait; wait`)
			spec.Env = append(spec.Env, "SYNC="+sync)
			p := start(t, r, spec)
			waitFor(t, "the command", func() bool { return exists(filepath.Join(sync, "ready")) })
			tree := descendants(t, p.Pid())

			p2, err := New(os.Args[0], nil).Attach(spec.Dir)
			if err != nil {
				t.Fatalf("Attach: %v", err)
			}
			if err := p2.Stop(100 * time.Millisecond); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			want := Exit{Code: -1, Signal: "killed"}
			if e := wait(t, p2); e != want {
				t.Errorf("attached exit = %+v, want %+v", e, want)
			}
			if e := wait(t, p); e != want {
				t.Errorf("started exit = %+v, want %+v", e, want)
			}
			waitFor(t, "the tree to die", func() bool {
				return !slices.ContainsFunc(tree, running)
			})
		})
	}
}

func TestAttachChecksStartTime(t *testing.T) {
	r := New(os.Args[0], nil)
	self := os.Getpid()
	_, st, err := procStat(self)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// A live pid with another start time is a reused pid, not our wrapper.
	if err := writeRecord(dir, PidFile, pidRecord{Pid: self, Start: st + 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Attach(dir); !errors.Is(err, ErrGone) {
		t.Errorf("Attach = %v, want ErrGone", err)
	}
	// The same pid with its own start time is found (not stopped, of course).
	if err := writeRecord(dir, PidFile, pidRecord{Pid: self, Start: st}); err != nil {
		t.Fatal(err)
	}
	if p, err := r.Attach(dir); err != nil || p.Pid() != self {
		t.Errorf("Attach = %v, %v", p, err)
	}
	if err := os.WriteFile(filepath.Join(dir, PidFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Attach(dir); err == nil || errors.Is(err, ErrGone) {
		t.Errorf("Attach with a malformed pid file = %v", err)
	}
}

// hasSysAdmin reports whether this process has CAP_SYS_ADMIN.
func hasSysAdmin(t *testing.T) bool {
	t.Helper()
	for line := range strings.Lines(readFile(t, "/proc/self/status")) {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && caps&(1<<21) != 0
		}
	}
	return false
}

func TestIsolationProbe(t *testing.T) {
	ok, why := testRunner(nil).Isolation()
	t.Logf("isolation: %v %s", ok, why)
	if !ok && os.Geteuid() == 0 && hasSysAdmin(t) {
		t.Fatalf("isolation unavailable as root with CAP_SYS_ADMIN: %s", why)
	}
	if ok != (why == "") {
		t.Errorf("ok %v with reason %q", ok, why)
	}
	// A wrapper binary that cannot be a wrapper gives a reason.
	ok, why = New("/bin/false", nil).Isolation()
	if ok || why == "" {
		t.Errorf("probe with /bin/false = %v, %q", ok, why)
	}
}

func TestStartFailsCleanly(t *testing.T) {
	// A "wrapper" that exits at once, and one that never writes a pid file.
	bin := t.TempDir()
	script := func(name, body string) string {
		path := filepath.Join(bin, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	quits, hangs := script("quits", "exit 4"), script("hangs", `echo $$ > "$0.tmp"; mv "$0.tmp" "$0.pid"; exec sleep 300`)

	r := New(quits, nil)
	r.setIsolation(false, noIsolationReason)
	if _, err := r.Start(newSpec(t, "true")); err == nil || !strings.Contains(err.Error(), "status 4") {
		t.Errorf("Start with a wrapper that quits = %v", err)
	}

	r = New(hangs, nil)
	r.setIsolation(false, noIsolationReason)
	r.startTimeout = 300 * time.Millisecond
	if _, err := r.Start(newSpec(t, "true")); err == nil || !strings.Contains(err.Error(), "no pid file") {
		t.Errorf("Start with a wrapper that hangs = %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, hangs+".pid")))
	if err != nil {
		t.Fatal(err)
	}
	if running(pid) {
		t.Errorf("the hanging wrapper %d is still running", pid)
	}
}

func TestRunSurvivesServer(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			r, _ := newRunner(t, m.isolated)
			dir, sync := t.TempDir(), t.TempDir()
			server := exec.Command(os.Args[0])
			server.Env = []string{
				envFakeServer + "=" + dir,
				envFakeServerScript + "=" + `while [ ! -e "` + sync + `/go" ]; do sleep 0.02; done; exit 5`,
				"GORACE=atexit_sleep_ms=0",
			}
			if !m.isolated {
				server.Env = append(server.Env, envFakeServerPlain+"=1")
			}
			server.Stderr = os.Stderr
			out, err := server.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := server.Start(); err != nil {
				t.Fatal(err)
			}
			line := make([]byte, len("started\n"))
			if _, err := io.ReadFull(out, line); err != nil {
				_ = server.Process.Kill()
				t.Fatalf("fake server: %v", err)
			}
			_ = server.Process.Kill()
			_ = server.Wait()

			p, err := r.Attach(dir)
			if err != nil {
				t.Fatalf("Attach after the server died: %v", err)
			}
			t.Cleanup(func() { _ = p.Stop(0) })
			if err := os.WriteFile(filepath.Join(sync, "go"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			if e := wait(t, p); e != (Exit{Code: 5, Known: true}) {
				t.Errorf("exit = %+v, want 5", e)
			}
		})
	}
}
