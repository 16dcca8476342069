//go:build linux

package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/herdhq/herd/internal/hostprovider"
	"github.com/herdhq/herd/internal/testutil"
)

// The test binary doubles as the host agent of the VMs (envFake=agent)
// and as a role process that agent starts (envFake=role).
const (
	envFake = "HERD_LOCAL_TEST_FAKE"
	// envRoleIgnoreTerm makes the fake roles ignore SIGTERM.
	envRoleIgnoreTerm = "HERD_LOCAL_TEST_ROLE_IGNORE_TERM"
	// envAgentFail makes the fake agent exit at once, with status 3.
	envAgentFail = "HERD_LOCAL_TEST_AGENT_FAIL"

	fakeAgentFile = "fake-agent.json" // in the agent's data directory
	rolePIDsFile  = "roles.pid"       // in the agent's data directory
)

var selfExe string

func TestMain(m *testing.M) {
	switch os.Getenv(envFake) {
	case "agent":
		os.Exit(fakeAgent())
	case "role":
		fakeRole()
	}
	var err error
	if selfExe, err = filepath.Abs(os.Args[0]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if left := fakeProcesses(); len(left) > 0 {
		fmt.Fprintln(os.Stderr, "processes left behind:", left)
		for _, pid := range left {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines leaked:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// fakeInfo is what a fake agent writes about itself.
type fakeInfo struct {
	Args  []string
	Token string
	Pid   int
	Cwd   string
	VMEnv string
	Flags map[string]string
}

// fakeAgent plays `herd agent`: it records its arguments, starts a role
// process that runs in its data directory, in a process group of its own
// (so that it outlives the agent, like a real role), and waits for SIGTERM.
func fakeAgent() int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	if os.Getenv(envAgentFail) != "" {
		fmt.Fprintln(os.Stderr, "fake agent: told to fail")
		return 3
	}
	if len(os.Args) < 2 || os.Args[1] != "agent" {
		fmt.Fprintln(os.Stderr, "fake agent: want the agent command, got", os.Args[1:])
		return 2
	}
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	var server, address, hostname, dataDir string
	fs.StringVar(&server, "server", "", "")
	fs.StringVar(&address, "address", "", "")
	fs.StringVar(&hostname, "hostname", "", "")
	fs.StringVar(&dataDir, "data-dir", "", "")
	if err := fs.Parse(os.Args[2:]); err != nil {
		return 2
	}
	cwd, _ := os.Getwd()
	info := fakeInfo{
		Args: os.Args[1:], Token: os.Getenv("HERD_AGENT_TOKEN"), Pid: os.Getpid(), Cwd: cwd, VMEnv: os.Getenv(EnvVM),
		Flags: map[string]string{"server": server, "address": address, "hostname": hostname, "data-dir": dataDir},
	}
	roleDir := filepath.Join(dataDir, "roles", "r1")
	if err := os.MkdirAll(roleDir, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	role := exec.Command(os.Args[0])
	role.Dir = roleDir
	// Like the real agent: a minimal environment, not the agent's.
	role.Env = []string{envFake + "=role", "GORACE=atexit_sleep_ms=0", envRoleIgnoreTerm + "=" + os.Getenv(envRoleIgnoreTerm)}
	role.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := role.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	f, err := os.OpenFile(filepath.Join(dataDir, rolePIDsFile), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintln(f, role.Process.Pid)
	f.Close()
	b, _ := json.Marshal(info)
	if err := os.WriteFile(filepath.Join(dataDir, fakeAgentFile), b, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("fake agent running")
	<-sigs
	return 0
}

// fakeRole runs until it is killed. It writes role-ready-<pid> to its
// working directory once it ignores SIGTERM, when told to.
func fakeRole() {
	if os.Getenv(envRoleIgnoreTerm) != "" {
		signal.Ignore(syscall.SIGTERM)
		_ = os.WriteFile("role-ready-"+strconv.Itoa(os.Getpid()), nil, 0o600)
	}
	for {
		time.Sleep(time.Hour)
	}
}

// fakeProcesses returns the running processes of this test binary's fakes.
func fakeProcesses() []int {
	pids, _ := listPIDs()
	var out []int
	for _, pid := range pids {
		if pid == os.Getpid() {
			continue
		}
		if pi, err := readStat(pid); err != nil || pi.dead() {
			continue
		}
		env, _ := procEnviron(pid)
		if slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, envFake+"=") }) {
			out = append(out, pid)
		}
	}
	return out
}

// testAgentCommand is the default command with the test binary as herd,
// and env added.
func testAgentCommand(env ...string) func(AgentArgs) *exec.Cmd {
	return func(a AgentArgs) *exec.Cmd {
		cmd := herdAgentCommand(selfExe, a)
		cmd.Env = append(cmd.Env, envFake+"=agent", "GORACE=atexit_sleep_ms=0")
		cmd.Env = append(cmd.Env, env...)
		return cmd
	}
}

var testNow = time.Date(2026, 8, 21, 10, 0, 0, 0, time.UTC)

// newTestProvider returns a provider over a new directory (or over the
// Dir an option sets), with fake agents. When the test ends it destroys
// every VM and checks that no process of the directory is left.
func newTestProvider(t *testing.T, opts ...func(*Config)) *Provider {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	cfg := Config{
		Dir:          t.TempDir(),
		AgentCommand: testAgentCommand(),
		Now:          func() time.Time { return testNow },
		Logger:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Subnet:       "127.77",
	}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.startGrace = 150 * time.Millisecond
	p.poll = 10 * time.Millisecond
	t.Cleanup(func() {
		vms, err := p.List(context.Background())
		if err != nil {
			t.Error(err)
		}
		for _, vm := range vms {
			if err := p.Destroy(context.Background(), vm.InstanceID); err != nil {
				t.Error(err)
			}
		}
		procs, err := p.procsUnder(p.dir)
		if err != nil {
			t.Error(err)
		}
		for _, pi := range procs {
			args, _ := procCmdline(pi.pid)
			t.Errorf("process %d left under %s: %q", pi.pid, p.dir, args)
			_ = syscall.Kill(pi.pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("provider log:\n%s", logs.String())
		}
	})
	return p
}

func testSpec(id string) hostprovider.VMSpec {
	return hostprovider.VMSpec{
		InstanceID: id,
		Name:       "HadoopMST-test-" + id,
		Flavor:     hostprovider.Flavor{Name: "m2a.xlarge", Cores: 4, MemoryBytes: 16 << 30},
		VolumeGB:   50,
		Agent:      hostprovider.AgentJoin{ServerURL: "http://127.0.0.1:7180", Token: "hht_secret"},
	}
}

func mustCreate(t *testing.T, p *Provider, id string) hostprovider.VM {
	t.Helper()
	vm, err := p.Create(t.Context(), testSpec(id))
	if err != nil {
		t.Fatal(err)
	}
	return vm
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func running(pid int) bool {
	pi, err := readStat(pid)
	return err == nil && !pi.dead()
}

// fakeAgentInfo waits for the fake agent of a VM to have started and
// returns what it recorded.
func fakeAgentInfo(t *testing.T, p *Provider, id string) fakeInfo {
	t.Helper()
	path := filepath.Join(p.vmDir(id), agentDataDir, fakeAgentFile)
	var info fakeInfo
	waitFor(t, "the fake agent of "+id, func() bool {
		b, err := os.ReadFile(path)
		return err == nil && json.Unmarshal(b, &info) == nil
	})
	return info
}

// rolePIDs waits for the VM to have at least n roles and returns them.
func rolePIDs(t *testing.T, p *Provider, id string, n int) []int {
	t.Helper()
	var pids []int
	waitFor(t, fmt.Sprintf("%d roles of %s", n, id), func() bool {
		b, _ := os.ReadFile(filepath.Join(p.vmDir(id), agentDataDir, rolePIDsFile))
		pids = pids[:0]
		for f := range strings.FieldsSeq(string(b)) {
			pid, _ := strconv.Atoi(f)
			pids = append(pids, pid)
		}
		return len(pids) >= n
	})
	return pids
}

func recordedPID(t *testing.T, p *Provider, id string) int {
	t.Helper()
	pid, _, err := p.agentPID(id)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dir", Config{}, "Dir is required"},
		{"subnet 127.0", Config{Dir: dir, Subnet: "127.0"}, "subnet"},
		{"not loopback", Config{Dir: dir, Subnet: "10.1"}, "subnet"},
		{"out of range", Config{Dir: dir, Subnet: "127.256"}, "subnet"},
		{"three octets", Config{Dir: dir, Subnet: "127.1.2"}, "subnet"},
		{"leading zero", Config{Dir: dir, Subnet: "127.01"}, "subnet"},
	} {
		_, err := New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one with %q", tc.name, err, tc.want)
		}
	}
	p, err := New(Config{Dir: filepath.Join(dir, "new"), Executable: "/opt/herd"})
	if err != nil {
		t.Fatal(err)
	}
	if p.subnet != DefaultSubnet || p.Name() != "local" {
		t.Errorf("subnet %q, name %q", p.subnet, p.Name())
	}
	if fi, err := os.Stat(filepath.Join(dir, "new")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("Dir not made 0700: %v %v", fi, err)
	}
	cmd := p.agentCommand(AgentArgs{ServerURL: "http://s", Token: "hht_x", Address: "127.1.0.1", Hostname: "h", DataDir: "/d"})
	want := []string{"/opt/herd", "agent", "--server", "http://s", "--address", "127.1.0.1", "--hostname", "h", "--data-dir", "/d"}
	if diff := cmp.Diff(want, cmd.Args); diff != "" {
		t.Errorf("default agent command (-want +got):\n%s", diff)
	}
	if !slices.Contains(cmd.Env, "HERD_AGENT_TOKEN=hht_x") {
		t.Error("the default agent command does not get the token in HERD_AGENT_TOKEN")
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t)
	vm := mustCreate(t, p, "vm-a")
	want := hostprovider.VM{InstanceID: "vm-a", Name: "HadoopMST-test-vm-a", Address: "127.77.0.1", CreatedAt: testNow}
	if diff := cmp.Diff(want, vm); diff != "" {
		t.Errorf("vm (-want +got):\n%s", diff)
	}
	dir := p.vmDir("vm-a")
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("vm dir: %v %v", fi, err)
	}
	fi, err := os.Stat(filepath.Join(dir, recordFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("vm.json: %v %v", fi, err)
	}
	rec, err := p.readRecord("vm-a")
	if err != nil {
		t.Fatal(err)
	}
	wantRec := &record{
		InstanceID: "vm-a", Name: "HadoopMST-test-vm-a", Address: "127.77.0.1",
		Flavor: flavor{Name: "m2a.xlarge", Cores: 4, MemoryBytes: 16 << 30}, VolumeGB: 50, CreatedAt: testNow,
		Agent: agentRecord{ServerURL: "http://127.0.0.1:7180", Token: "hht_secret", Hostname: "HadoopMST-test-vm-a"},
	}
	if diff := cmp.Diff(wantRec, rec); diff != "" {
		t.Errorf("vm.json (-want +got):\n%s", diff)
	}

	info := fakeAgentInfo(t, p, "vm-a")
	serverCwd, _ := os.Getwd()
	wantInfo := fakeInfo{
		Args: info.Args, Token: "hht_secret", Pid: recordedPID(t, p, "vm-a"), Cwd: serverCwd, VMEnv: dir,
		Flags: map[string]string{
			"server": "http://127.0.0.1:7180", "address": "127.77.0.1",
			"hostname": "HadoopMST-test-vm-a", "data-dir": filepath.Join(dir, agentDataDir),
		},
	}
	if diff := cmp.Diff(wantInfo, info); diff != "" {
		t.Errorf("the agent's view (-want +got):\n%s", diff)
	}
	if slices.Contains(info.Args, "hht_secret") {
		t.Error("the token is in the agent's arguments")
	}
	if !running(info.Pid) {
		t.Error("the agent does not run")
	}
	// In a session of its own.
	if sid, _, _ := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(info.Pid), 0, 0); int(sid) != info.Pid {
		t.Errorf("agent session %d, want its own (%d)", sid, info.Pid)
	}
	role := rolePIDs(t, p, "vm-a", 1)[0]
	if !running(role) {
		t.Error("the role does not run")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, agentLogFile)); !bytes.Contains(b, []byte("fake agent running")) {
		t.Errorf("agent.log:\n%s", b)
	}

	// A second Create of the id fails and leaves the VM alone.
	if _, err := p.Create(t.Context(), testSpec("vm-a")); !errors.Is(err, ErrExists) {
		t.Errorf("second create: %v, want ErrExists", err)
	}
	if !running(info.Pid) || !running(role) {
		t.Error("a failed create of an existing id harmed the vm")
	}
	vms, err := p.List(t.Context())
	if err != nil || len(vms) != 1 || vms[0] != vm {
		t.Errorf("List = %v, %v", vms, err)
	}
}

func TestCreateConcurrentAddresses(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t)
	const n = 8
	vms := make([]hostprovider.VM, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { vms[i], errs[i] = p.Create(t.Context(), testSpec(fmt.Sprintf("vm-%d", i))) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for i, vm := range vms {
		got = append(got, vm.Address)
		want = append(want, fmt.Sprintf("127.77.0.%d", i+1))
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	// A destroyed VM's address is the lowest free one again.
	freed := vms[3]
	if err := p.Destroy(t.Context(), freed.InstanceID); err != nil {
		t.Fatal(err)
	}
	if vm := mustCreate(t, p, "vm-new"); vm.Address != freed.Address {
		t.Errorf("new vm got %s, want the freed %s", vm.Address, freed.Address)
	}
	if vm := mustCreate(t, p, "vm-next"); vm.Address != "127.77.0.9" {
		t.Errorf("next vm got %s, want 127.77.0.9", vm.Address)
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   []func(*Config)
		spec   func(*hostprovider.VMSpec)
		want   string
		wantIs error
	}{
		{name: "path in id", spec: func(s *hostprovider.VMSpec) { s.InstanceID = "../x" }, want: "invalid instance id"},
		{name: "empty id", spec: func(s *hostprovider.VMSpec) { s.InstanceID = "" }, want: "invalid instance id"},
		{name: "slash in id", spec: func(s *hostprovider.VMSpec) { s.InstanceID = "a/b" }, want: "invalid instance id"},
		{name: "no server", spec: func(s *hostprovider.VMSpec) { s.Agent.ServerURL = "" }, want: "server URL is required"},
		{
			name: "agent exits at once", opts: []func(*Config){func(c *Config) { c.AgentCommand = testAgentCommand(envAgentFail + "=1") }},
			want: "fake agent: told to fail",
		},
		{
			name: "no agent binary",
			opts: []func(*Config){func(c *Config) { c.AgentCommand = nil; c.Executable = "/nonexistent/herd" }},
			want: "start host agent",
		},
		{
			name: "volume too large", opts: []func(*Config){func(c *Config) { c.EnforceVolume = true }},
			spec: func(s *hostprovider.VMSpec) { s.VolumeGB = 1 << 30 }, want: "GB free", wantIs: ErrNoSpace,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newTestProvider(t, tc.opts...)
			p.startGrace = 5 * time.Second // the failing agent must be seen failing
			spec := testSpec("vm-x")
			if tc.spec != nil {
				tc.spec(&spec)
			}
			_, err := p.Create(t.Context(), spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one with %q", err, tc.want)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("err %v is not %v", err, tc.wantIs)
			}
			entries, _ := os.ReadDir(p.dir)
			for _, e := range entries {
				if e.Name() != lockFile {
					t.Errorf("left in Dir: %s", e.Name())
				}
			}
		})
	}
	// With a working agent and volume check, the next Create gets the
	// first address.
	p := newTestProvider(t, func(c *Config) { c.EnforceVolume = true })
	spec := testSpec("vm-ok")
	spec.VolumeGB = 0
	vm, err := p.Create(t.Context(), spec)
	if err != nil || vm.Address != "127.77.0.1" {
		t.Errorf("create = %v, %v", vm, err)
	}
}

func TestExec(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t)
	mustCreate(t, p, "vm-e")
	dir := p.vmDir("vm-e")
	logPath := filepath.Join(dir, scriptLog)

	out, err := p.Exec(t.Context(), "vm-e", []byte("echo out\necho err >&2\necho \"$HERD_VM_NAME $HERD_VM_ADDRESS $HOME $(pwd) ${HERD_AGENT_TOKEN:-no-token}\"\n"))
	if err != nil {
		t.Fatalf("exec: %v\n%s", err, out)
	}
	want := "out\nerr\nHadoopMST-test-vm-e 127.77.0.1 " + dir + " " + dir + " no-token\n"
	if string(out) != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if b, _ := os.ReadFile(logPath); !bytes.Contains(b, []byte(want)) {
		t.Errorf("user-script.log lacks the output:\n%s", b)
	}

	out, err = p.Exec(t.Context(), "vm-e", []byte("echo partial\nexit 3\n"))
	var ee *exec.ExitError
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !errors.As(err, &ee) {
		t.Errorf("failing script: err %v, want exit status 3", err)
	}
	if string(out) != "partial\n" {
		t.Errorf("failing script: output %q", out)
	}
	if b, _ := os.ReadFile(logPath); !bytes.Contains(b, []byte("partial\n")) || !bytes.Contains(b, []byte("ended: exit status 3")) {
		t.Errorf("user-script.log:\n%s", b)
	}

	// Output past MaxOutput: the tail is kept.
	out, err = p.Exec(t.Context(), "vm-e", []byte("head -c 1500000 /dev/zero | tr '\\0' a\necho\necho END\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != MaxOutput || !bytes.HasSuffix(out, []byte("a\nEND\n")) {
		t.Errorf("big output: %d bytes, ending %q", len(out), out[max(0, len(out)-10):])
	}

	// A cancelled script is killed with its children.
	before, err := p.procsUnder(dir)
	if err != nil {
		t.Fatal(err)
	}
	// The deadline leaves a loaded machine time to print "started".
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	out, err = p.Exec(ctx, "vm-e", []byte("echo started\nsleep 60 &\nsleep 60\n"))
	if !errors.Is(err, context.DeadlineExceeded) || string(out) != "started\n" {
		t.Errorf("cancelled script: %v, output %q", err, out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancelled script took %v", d)
	}
	waitFor(t, "the cancelled script's processes to end", func() bool {
		after, _ := p.procsUnder(dir)
		return len(after) == len(before)
	})

	if _, err := p.Exec(t.Context(), "vm-nope", []byte("true")); !errors.Is(err, hostprovider.ErrNotFound) {
		t.Errorf("exec on unknown vm: %v", err)
	}
	if _, err := p.Exec(t.Context(), "../vm-e", []byte("true")); !errors.Is(err, hostprovider.ErrNotFound) {
		t.Errorf("exec on bad id: %v", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "user-script-*.sh")); len(matches) != 0 {
		t.Errorf("script files left: %v", matches)
	}
}

func TestDestroy(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t)
	mustCreate(t, p, "vm-d")
	dir := p.vmDir("vm-d")
	agent := fakeAgentInfo(t, p, "vm-d").Pid
	role := rolePIDs(t, p, "vm-d", 1)[0] // found by its working directory

	// Found by EnvVM only: a detached process of a user script, elsewhere.
	out, err := p.Exec(t.Context(), "vm-d", []byte("cd /\nsetsid sleep 300 </dev/null >/dev/null 2>&1 &\necho $!\n"))
	if err != nil {
		t.Fatal(err)
	}
	detached, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("script output %q", out)
	}
	// Found by an argument only.
	byArg := exec.Command(selfExe, "-dir="+filepath.Join(dir, "x"))
	byArg.Dir = "/"
	byArg.Env = []string{envFake + "=role", "GORACE=atexit_sleep_ms=0"}
	if err := byArg.Start(); err != nil {
		t.Fatal(err)
	}
	argDone := make(chan error, 1)
	go func() { argDone <- byArg.Wait() }()
	for _, pid := range []int{agent, role, detached, byArg.Process.Pid} {
		if !running(pid) {
			t.Fatalf("process %d does not run", pid)
		}
	}

	if err := p.Destroy(t.Context(), "vm-d"); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{agent, role, detached} {
		if running(pid) {
			t.Errorf("process %d survived Destroy", pid)
		}
	}
	select {
	case <-argDone:
	case <-time.After(10 * time.Second):
		t.Error("the process named by its argument survived Destroy")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("vm dir: %v", err)
	}

	// Idempotent.
	for _, id := range []string{"vm-d", "vm-never", "../x"} {
		if err := p.Destroy(t.Context(), id); err != nil {
			t.Errorf("destroy %s: %v", id, err)
		}
	}
	if err := p.Check(t.Context(), "vm-d"); !errors.Is(err, hostprovider.ErrNotFound) {
		t.Errorf("check after destroy: %v", err)
	}
}

func TestDestroyKillsWhatIgnoresSIGTERM(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t, func(c *Config) { c.AgentCommand = testAgentCommand(envRoleIgnoreTerm + "=1") })
	p.procStopTimeout = 300 * time.Millisecond
	mustCreate(t, p, "vm-s")
	role := rolePIDs(t, p, "vm-s", 1)[0]
	ready := filepath.Join(p.vmDir("vm-s"), agentDataDir, "roles", "r1", "role-ready-"+strconv.Itoa(role))
	waitFor(t, "the role to ignore SIGTERM", func() bool { _, err := os.Stat(ready); return err == nil })
	start := time.Now()
	if err := p.Destroy(t.Context(), "vm-s"); err != nil {
		t.Fatal(err)
	}
	if running(role) {
		t.Error("the role survived")
	}
	// It outlived SIGTERM, and SIGKILL came after procStopTimeout.
	if d := time.Since(start); d < p.procStopTimeout || d > 5*time.Second {
		t.Errorf("destroy took %v", d)
	}
}

func TestDestroyPrefixSafety(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t)
	mustCreate(t, p, "vm-1")
	mustCreate(t, p, "vm-10")
	agent10 := fakeAgentInfo(t, p, "vm-10").Pid
	role10 := rolePIDs(t, p, "vm-10", 1)[0]
	role1 := rolePIDs(t, p, "vm-1", 1)[0]
	if err := p.Destroy(t.Context(), "vm-1"); err != nil {
		t.Fatal(err)
	}
	if running(role1) {
		t.Error("vm-1's role survived")
	}
	if !running(agent10) || !running(role10) {
		t.Error("destroying vm-1 killed processes of vm-10")
	}
	if _, err := os.Stat(filepath.Join(p.vmDir("vm-10"), recordFile)); err != nil {
		t.Errorf("vm-10: %v", err)
	}
	if err := p.Check(t.Context(), "vm-10"); err != nil || recordedPID(t, p, "vm-10") != agent10 {
		t.Errorf("vm-10 check: %v", err)
	}
	for _, c := range []struct{ path, dir string }{
		{p.vmDir("vm-10"), p.vmDir("vm-1")},
		{p.vmDir("vm-1") + "0/x", p.vmDir("vm-1")},
		{p.vmDir("vm-1") + ".bak", p.vmDir("vm-1")},
		{"vm-1/x", p.vmDir("vm-1")},
	} {
		if p.pathUnder(c.path, c.dir) {
			t.Errorf("%s is taken for under %s", c.path, c.dir)
		}
	}
	for _, path := range []string{p.vmDir("vm-1"), p.vmDir("vm-1") + "/", p.vmDir("vm-1") + "/a/b", p.vmDir("vm-10") + "/../vm-1/x"} {
		if !p.pathUnder(path, p.vmDir("vm-1")) {
			t.Errorf("%s is not taken for under vm-1", path)
		}
	}
}

func TestCheckRestartsTheAgent(t *testing.T) {
	t.Parallel()
	p := newTestProvider(t)
	if err := p.Check(t.Context(), "vm-nope"); !errors.Is(err, hostprovider.ErrNotFound) {
		t.Errorf("check unknown: %v", err)
	}
	if err := p.Check(t.Context(), "../etc"); !errors.Is(err, hostprovider.ErrNotFound) {
		t.Errorf("check bad id: %v", err)
	}
	mustCreate(t, p, "vm-c")
	first := fakeAgentInfo(t, p, "vm-c")
	if err := p.Check(t.Context(), "vm-c"); err != nil {
		t.Fatal(err)
	}
	if pid := recordedPID(t, p, "vm-c"); pid != first.Pid {
		t.Errorf("check restarted a running agent: %d, was %d", pid, first.Pid)
	}

	killAgent := func(pid int) {
		t.Helper()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the agent to die", func() bool { return !running(pid) })
		os.Remove(filepath.Join(p.vmDir("vm-c"), agentDataDir, fakeAgentFile))
	}
	restarted := func(old int) fakeInfo {
		t.Helper()
		if err := p.Check(t.Context(), "vm-c"); err != nil {
			t.Fatal(err)
		}
		info := fakeAgentInfo(t, p, "vm-c")
		if info.Pid == old || !running(info.Pid) || recordedPID(t, p, "vm-c") != info.Pid {
			t.Fatalf("agent %d after check, was %d", info.Pid, old)
		}
		if diff := cmp.Diff(first.Flags, info.Flags); diff != "" {
			t.Errorf("restarted with other arguments (-first +now):\n%s", diff)
		}
		return info
	}

	// A dead agent.
	killAgent(first.Pid)
	second := restarted(first.Pid)
	if second.Token != "hht_secret" {
		t.Errorf("an unregistered agent restarted without its token: %q", second.Token)
	}

	// A recorded pid that is another process now.
	killAgent(second.Pid)
	if err := os.WriteFile(filepath.Join(p.vmDir("vm-c"), pidFile), fmt.Appendf(nil, "%d\n1\n", os.Getpid()), 0o600); err != nil {
		t.Fatal(err)
	}
	third := restarted(os.Getpid())

	// Once registered, the token is dropped from vm.json and not given.
	if err := os.WriteFile(filepath.Join(p.vmDir("vm-c"), agentDataDir, identityFile), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	killAgent(third.Pid)
	fourth := restarted(third.Pid)
	if fourth.Token != "" {
		t.Errorf("a registered agent got the token %q", fourth.Token)
	}
	if b, _ := os.ReadFile(filepath.Join(p.vmDir("vm-c"), recordFile)); bytes.Contains(b, []byte("hht_secret")) {
		t.Errorf("vm.json keeps the token after registration:\n%s", b)
	}

	// The roles of every agent survived it; Destroy ends them all.
	roles := rolePIDs(t, p, "vm-c", 4)
	for _, pid := range roles {
		if !running(pid) {
			t.Errorf("role %d does not run", pid)
		}
	}
	if err := p.Destroy(t.Context(), "vm-c"); err != nil {
		t.Fatal(err)
	}
	for _, pid := range append(roles, fourth.Pid) {
		if running(pid) {
			t.Errorf("process %d survived Destroy", pid)
		}
	}
}

func TestNewProviderOverSameDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p1 := newTestProvider(t, func(c *Config) { c.Dir = dir })
	a := mustCreate(t, p1, "vm-a")
	b := mustCreate(t, p1, "vm-b")
	agentA := fakeAgentInfo(t, p1, "vm-a").Pid
	roleB := rolePIDs(t, p1, "vm-b", 1)[0]

	// The server restarts: a new provider over the same directory.
	p2 := newTestProvider(t, func(c *Config) { c.Dir = dir })
	vms, err := p2.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]hostprovider.VM{a, b}, vms); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	if err := p2.Check(t.Context(), "vm-a"); err != nil {
		t.Fatal(err)
	}
	if pid := recordedPID(t, p2, "vm-a"); pid != agentA {
		t.Errorf("the new provider restarted a running agent: %d, was %d", pid, agentA)
	}
	if c := mustCreate(t, p2, "vm-c"); c.Address != "127.77.0.3" {
		t.Errorf("vm-c got %s, want 127.77.0.3", c.Address)
	}
	if err := p2.Destroy(t.Context(), "vm-b"); err != nil {
		t.Fatal(err)
	}
	if running(roleB) {
		t.Error("vm-b's role survived")
	}
	if vms, _ := p1.List(t.Context()); len(vms) != 2 {
		t.Errorf("the old provider lists %v", vms)
	}
}
