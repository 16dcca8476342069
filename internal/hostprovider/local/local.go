package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/herdhq/herd/internal/fileutil"
	"github.com/herdhq/herd/internal/hostprovider"
)

// DefaultSubnet is the loopback range VM addresses come from when
// Config.Subnet is empty.
const DefaultSubnet = "127.1"

// MaxOutput is how much of a user script's output Exec returns: the last
// MaxOutput bytes. The VM's user-script.log has all of it.
const MaxOutput = 1 << 20

// The files of a VM directory, Dir/<instanceID>/.
const (
	recordFile   = "vm.json"
	pidFile      = "agent.pid"
	agentLogFile = "agent.log"
	scriptLog    = "user-script.log"
	agentDataDir = "agent"
	// identityFile is where a host agent keeps the identity the server
	// gave it (see herd agent --help); once it exists the token is no
	// longer needed.
	identityFile = "agent.json"
	// lockFile, in Dir, serializes address allocation between providers.
	lockFile = ".alloc.lock"
)

// EnvVM is set, to the VM's directory, in the environment of the host
// agent and of the user scripts of a VM, so that Destroy finds their
// processes also when they left the VM's directory.
const EnvVM = "HERD_LOCAL_VM"

// Errors of Create, besides the ones of the file system and of starting
// processes.
var (
	// ErrExists is returned for an instance ID that names a VM already.
	ErrExists = errors.New("vm exists")
	// ErrNoAddress is returned when every address of the subnet is taken.
	ErrNoAddress = errors.New("no free address in the subnet")
	// ErrNoSpace is returned, with Config.EnforceVolume, when the file
	// system of Dir has less free space than the volume asked for.
	ErrNoSpace = errors.New("not enough free disk space for the volume")
)

// Config configures a Provider.
type Config struct {
	// Dir is where VMs live, one directory each: Dir/<instanceID>/;
	// required. It is created (0700) when missing.
	Dir string
	// AgentCommand builds the command that runs a VM's host agent. The
	// default runs Executable with `agent --server S --address A
	// --hostname N --data-dir D` and the token in HERD_AGENT_TOKEN, in
	// the server's working directory, so that the agent discovers the
	// Hadoop and Spark runtimes (go.mod search, --spark-venv .venv) as the
	// server's own agent does. The provider adds EnvVM to the command's
	// environment, sends its output to agent.log and starts it in a
	// session of its own.
	AgentCommand func(a AgentArgs) *exec.Cmd
	// Executable is the herd binary of the default AgentCommand;
	// os.Executable() when empty.
	Executable string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger gets the provider's logs; discarded when nil.
	Logger *slog.Logger
	// Subnet is the /16 loopback range VM addresses come from, "127.N"
	// with N from 1 to 255: "127.1" gives 127.1.0.1, 127.1.0.2, ...
	// DefaultSubnet when empty. 127.0 is refused: 127.0.0.x is the
	// server's own agent's, and tests use 127.0.1.x.
	Subnet string
	// EnforceVolume makes Create fail with ErrNoSpace when the file
	// system of Dir has less free space than the VM's VolumeGB. Off by
	// default: the volumes of the usual flavors (50 to 100 GB each) are
	// far more than a development machine has, and VMs share the disk.
	EnforceVolume bool
}

// AgentArgs is what a VM's host agent is started with.
type AgentArgs struct {
	ServerURL string
	// Token is the host token; empty once the agent has registered (its
	// data directory holds its identity).
	Token    string
	Address  string
	Hostname string
	DataDir  string
}

// Provider is the local host provider: each VM is a host agent process of
// this machine. It is safe for concurrent use, also by several providers
// (of several processes) over the same Dir.
type Provider struct {
	dir    string   // absolute
	dirs   []string // dir, and dir with its symbolic links resolved when that differs
	subnet string   // "127.N"

	agentCommand  func(AgentArgs) *exec.Cmd
	now           func() time.Time
	log           *slog.Logger
	enforceVolume bool

	// How long Create and Check watch a new agent for an early exit, how
	// long Destroy waits after SIGTERM for an agent and for the other
	// processes of a VM, and how often it looks.
	startGrace       time.Duration
	agentStopTimeout time.Duration
	procStopTimeout  time.Duration
	killTimeout      time.Duration
	poll             time.Duration

	allocMu sync.Mutex // with the lock file: address allocation
	locks   keyedMutex // per instance ID: Create, Destroy, Check
}

var _ hostprovider.Provider = (*Provider)(nil)

var subnetRE = regexp.MustCompile(`^127\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]?)$`)

// New returns a provider over cfg.Dir. VMs already there (of an earlier
// provider, before a server restart) are its VMs: see List and Check.
func New(cfg Config) (*Provider, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	if cfg.Dir == "" {
		return nil, errors.New("local host provider: Dir is required")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("local host provider: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("local host provider: %w", err)
	}
	dirs := []string{dir}
	if real, err := filepath.EvalSymlinks(dir); err == nil && real != dir {
		dirs = append(dirs, real)
	}
	subnet := cfg.Subnet
	if subnet == "" {
		subnet = DefaultSubnet
	}
	if !subnetRE.MatchString(subnet) {
		return nil, fmt.Errorf("local host provider: subnet %q: want 127.N with N from 1 to 255", subnet)
	}
	p := &Provider{
		dir: dir, dirs: dirs, subnet: subnet,
		agentCommand: cfg.AgentCommand, now: cfg.Now, log: cfg.Logger,
		enforceVolume:    cfg.EnforceVolume,
		startGrace:       500 * time.Millisecond,
		agentStopTimeout: 10 * time.Second,
		procStopTimeout:  15 * time.Second,
		killTimeout:      5 * time.Second,
		poll:             50 * time.Millisecond,
	}
	if p.agentCommand == nil {
		exe := cfg.Executable
		if exe == "" {
			if exe, err = os.Executable(); err != nil {
				return nil, fmt.Errorf("local host provider: find the herd executable: %w", err)
			}
		}
		p.agentCommand = func(a AgentArgs) *exec.Cmd { return herdAgentCommand(exe, a) }
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	p.log = p.log.With("provider", "local")
	return p, nil
}

// herdAgentCommand runs `exe agent ...` with the server's environment,
// less a HERD_AGENT_TOKEN of its own. The token goes in the environment,
// not in the arguments, which every user of the machine can read.
func herdAgentCommand(exe string, a AgentArgs) *exec.Cmd {
	cmd := exec.Command(exe, "agent", "--server", a.ServerURL, "--address", a.Address,
		"--hostname", a.Hostname, "--data-dir", a.DataDir)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "HERD_AGENT_TOKEN=") })
	if a.Token != "" {
		cmd.Env = append(cmd.Env, "HERD_AGENT_TOKEN="+a.Token)
	}
	return cmd
}

// Name returns "local".
func (p *Provider) Name() string { return "local" }

// record is a VM's vm.json. It holds the host token until the agent has
// registered, so it is 0600 in a 0700 directory.
type record struct {
	InstanceID string      `json:"instanceId"`
	Name       string      `json:"name"`
	Address    string      `json:"address"`
	Flavor     flavor      `json:"flavor"`
	VolumeGB   int         `json:"volumeGB"`
	CreatedAt  time.Time   `json:"createdAt"`
	Agent      agentRecord `json:"agent"`
}

type flavor struct {
	Name        string `json:"name"`
	Cores       int    `json:"cores"`
	MemoryBytes int64  `json:"memoryBytes"`
}

type agentRecord struct {
	ServerURL string `json:"serverUrl"`
	Token     string `json:"token,omitempty"`
	Hostname  string `json:"hostname"`
}

func (r *record) vm() hostprovider.VM {
	return hostprovider.VM{InstanceID: r.InstanceID, Name: r.Name, Address: r.Address, CreatedAt: r.CreatedAt}
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// validID checks that id is one safe path element.
func validID(id string) error {
	if !idRE.MatchString(id) {
		return fmt.Errorf("invalid instance id %q: want 1 to 128 letters, digits, '.', '_' or '-', not starting with a punctuation mark", id)
	}
	return nil
}

func (p *Provider) vmDir(id string) string { return filepath.Join(p.dir, id) }

// Create makes the VM's directory with its vm.json, taking the lowest free
// address of the subnet, and starts its host agent. When anything fails
// the VM is destroyed again.
func (p *Provider) Create(ctx context.Context, spec hostprovider.VMSpec) (hostprovider.VM, error) {
	id := spec.InstanceID
	if err := validID(id); err != nil {
		return hostprovider.VM{}, fmt.Errorf("create vm: %w", err)
	}
	switch {
	case spec.Agent.ServerURL == "":
		return hostprovider.VM{}, fmt.Errorf("create vm %s: the agent's server URL is required", id)
	case spec.VolumeGB < 0:
		return hostprovider.VM{}, fmt.Errorf("create vm %s: negative volume size %d GB", id, spec.VolumeGB)
	}
	unlock := p.locks.lock(id)
	defer unlock()
	if err := ctx.Err(); err != nil {
		return hostprovider.VM{}, fmt.Errorf("create vm %s: %w", id, err)
	}
	if p.enforceVolume {
		if err := p.checkSpace(spec.VolumeGB); err != nil {
			return hostprovider.VM{}, fmt.Errorf("create vm %s: %w", id, err)
		}
	}
	rec, err := p.reserve(spec)
	if err != nil {
		return hostprovider.VM{}, fmt.Errorf("create vm %s: %w", id, err)
	}
	err = p.checkAddress(ctx, rec.Address)
	if err == nil {
		err = os.Mkdir(filepath.Join(p.vmDir(id), agentDataDir), 0o700)
	}
	if err == nil {
		err = p.startAgent(rec)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		// The VM's context may be the one that ended: clean up anyway.
		if derr := p.teardown(context.WithoutCancel(ctx), id); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove what was made: %w", derr))
		}
		return hostprovider.VM{}, fmt.Errorf("create vm %s: %w", id, err)
	}
	p.log.Info("vm created", "instance_id", id, "name", rec.Name, "address", rec.Address)
	return rec.vm(), nil
}

// checkSpace fails with ErrNoSpace when Dir's file system has less than gb
// GB (GiB) free.
func (p *Provider) checkSpace(gb int) error {
	free, err := freeBytes(p.dir)
	if err != nil {
		return err
	}
	const gib = 1 << 30
	if uint64(gb) > free/gib { // gb is not negative
		return fmt.Errorf("volume of %d GB asked, %d GB free in %s: %w", gb, free/gib, p.dir, ErrNoSpace)
	}
	return nil
}

// reserve makes the VM's directory and its vm.json with the lowest address
// no vm.json records. It holds a mutex and a lock on Dir's lock file, so
// that two Creates, also of two providers, never take one address.
func (p *Provider) reserve(spec hostprovider.VMSpec) (*record, error) {
	p.allocMu.Lock()
	defer p.allocMu.Unlock()
	f, err := os.OpenFile(filepath.Join(p.dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock address allocation: %w", err)
	}
	defer f.Close() // releases the lock
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("lock address allocation: %w", err)
	}

	dir := p.vmDir(spec.InstanceID)
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, ErrExists
		}
		return nil, err
	}
	recs, err := p.records()
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	taken := make(map[string]bool, len(recs))
	for _, r := range recs {
		taken[r.Address] = true
	}
	addr := p.lowestFree(taken)
	if addr == "" {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("%w %s.0.0/16", ErrNoAddress, p.subnet)
	}
	hostname := spec.Name
	if hostname == "" {
		hostname = spec.InstanceID
	}
	rec := &record{
		InstanceID: spec.InstanceID, Name: spec.Name, Address: addr,
		Flavor:    flavor{Name: spec.Flavor.Name, Cores: spec.Flavor.Cores, MemoryBytes: spec.Flavor.MemoryBytes},
		VolumeGB:  spec.VolumeGB,
		CreatedAt: p.now().UTC().Round(0),
		Agent:     agentRecord{ServerURL: spec.Agent.ServerURL, Token: spec.Agent.Token, Hostname: hostname},
	}
	if err := p.writeRecord(rec); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return rec, nil
}

// lowestFree returns the lowest address of the subnet not taken, skipping
// the .0 and .255 of each /24; "" when there is none.
func (p *Provider) lowestFree(taken map[string]bool) string {
	for hi := range 256 {
		for lo := 1; lo < 255; lo++ {
			a := p.subnet + "." + strconv.Itoa(hi) + "." + strconv.Itoa(lo)
			if !taken[a] {
				return a
			}
		}
	}
	return ""
}

// checkAddress checks that addr is an address of this machine.
func (p *Provider) checkAddress(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		return fmt.Errorf("address %s is not usable on this machine: %w", addr, err)
	}
	ln.Close()
	return nil
}

func (p *Provider) writeRecord(rec *record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	if err := fileutil.WriteFileAtomic(filepath.Join(p.vmDir(rec.InstanceID), recordFile), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", recordFile, err)
	}
	return nil
}

// readRecord reads a VM's vm.json; the error wraps ErrNotFound when there
// is none.
func (p *Provider) readRecord(id string) (*record, error) {
	if err := validID(id); err != nil {
		return nil, fmt.Errorf("vm %q: %w", id, hostprovider.ErrNotFound)
	}
	b, err := os.ReadFile(filepath.Join(p.vmDir(id), recordFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("vm %s: %w", id, hostprovider.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("vm %s: %w", id, err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("vm %s: parse %s: %w", id, recordFile, err)
	}
	if rec.InstanceID != id {
		return nil, fmt.Errorf("vm %s: %s names vm %q", id, recordFile, rec.InstanceID)
	}
	return &rec, nil
}

// records reads the vm.json of every VM directory; it skips, with a
// warning, directories whose vm.json is missing or broken.
func (p *Provider) records() ([]*record, error) {
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return nil, fmt.Errorf("list vms: %w", err)
	}
	var recs []*record
	for _, e := range entries {
		if !e.IsDir() || validID(e.Name()) != nil {
			continue
		}
		rec, err := p.readRecord(e.Name())
		if err != nil {
			if !errors.Is(err, hostprovider.ErrNotFound) {
				p.log.Warn("skipping a vm directory", "dir", p.vmDir(e.Name()), "err", err)
			}
			continue
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// List returns the provider's VMs, oldest first.
func (p *Provider) List(ctx context.Context) ([]hostprovider.VM, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	recs, err := p.records()
	if err != nil {
		return nil, err
	}
	vms := make([]hostprovider.VM, 0, len(recs))
	for _, r := range recs {
		vms = append(vms, r.vm())
	}
	slices.SortFunc(vms, func(a, b hostprovider.VM) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.InstanceID, b.InstanceID)
	})
	return vms, nil
}

// startAgent starts the VM's host agent in a session of its own, with its
// output appended to agent.log, records its pid and start time in
// agent.pid and watches it for startGrace: an agent that exits at once is
// an error, with the tail of its log.
func (p *Provider) startAgent(rec *record) error {
	dir := p.vmDir(rec.InstanceID)
	args := AgentArgs{
		ServerURL: rec.Agent.ServerURL, Token: rec.Agent.Token, Address: rec.Address,
		Hostname: rec.Agent.Hostname, DataDir: filepath.Join(dir, agentDataDir),
	}
	if registered(args.DataDir) {
		args.Token = ""
	}
	cmd := p.agentCommand(args)
	if cmd == nil {
		return errors.New("start host agent: AgentCommand returned no command")
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, EnvVM+"="+dir)
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// A session of its own: the server's terminal and signals do not reach
	// it, and it survives the server. (Setpgid would fail after Setsid.)
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setpgid = true, false
	logPath := filepath.Join(dir, agentLogFile)
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start host agent: %w", err)
	}
	fmt.Fprintf(logf, "--- %s starting the host agent: %s\n", p.now().UTC().Format(time.RFC3339), strings.Join(cmd.Args, " "))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, logf, logf
	err = cmd.Start()
	logf.Close() // the agent has its own copy
	if err != nil {
		return fmt.Errorf("start host agent: %w", err)
	}
	pid := cmd.Process.Pid
	// Not reaped yet, so /proc/<pid> is there even if it exited already.
	pi, err := readStat(pid)
	if err == nil {
		err = fileutil.WriteFileAtomic(filepath.Join(dir, pidFile), fmt.Appendf(nil, "%d\n%d\n", pid, pi.start), 0o600)
	}
	if err != nil {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = cmd.Wait()
		return fmt.Errorf("start host agent: record its pid: %w", err)
	}
	// Reap it whenever it ends, so that it never stays a zombie. A
	// restarted server finds it through agent.pid instead.
	done := make(chan struct{})
	var waitErr error
	log := p.log.With("instance_id", rec.InstanceID, "pid", pid)
	go func() {
		waitErr = cmd.Wait()
		close(done)
		log.Info("host agent exited", "status", exitStatus(waitErr))
	}()
	log.Info("host agent started", "address", rec.Address)
	t := time.NewTimer(p.startGrace)
	defer t.Stop()
	select {
	case <-done:
		return fmt.Errorf("host agent exited at once (%s): %s", exitStatus(waitErr), logTail(logPath, 2048))
	case <-t.C:
		return nil
	}
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// logTail returns the last lines of a log, at most n bytes.
func logTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		_, _ = f.Seek(fi.Size()-n, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return strings.TrimSpace(string(b))
}

// registered reports whether the agent of dataDir has an identity.
func registered(dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, identityFile))
	return err == nil
}

// agentPID returns the agent's recorded pid and start time.
func (p *Provider) agentPID(id string) (pid int, start uint64, err error) {
	b, err := os.ReadFile(filepath.Join(p.vmDir(id), pidFile))
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, 0, fmt.Errorf("%s is empty", pidFile)
	}
	if pid, err = strconv.Atoi(f[0]); err != nil || pid <= 0 {
		return 0, 0, fmt.Errorf("%s: bad pid %q", pidFile, f[0])
	}
	if len(f) > 1 {
		start, _ = strconv.ParseUint(f[1], 10, 64)
	}
	return pid, start, nil
}

// agentRunning returns the pid of the VM's agent, or 0 when it does not
// run: when agent.pid is missing, or its process has exited, or the pid
// now belongs to another process (its start time differs from the
// recorded one; when none is recorded, its arguments must name the VM's
// directory).
func (p *Provider) agentRunning(id string) int {
	pid, start, err := p.agentPID(id)
	if err != nil {
		return 0
	}
	if !p.alive(pid, start) {
		return 0
	}
	if start == 0 {
		args, err := procCmdline(pid)
		if err != nil || !slices.ContainsFunc(args, func(a string) bool { return p.argUnder(a, p.vmDir(id)) }) {
			return 0
		}
	}
	return pid
}

// alive reports whether the process pid, started at start (any start when
// 0), runs.
func (p *Provider) alive(pid int, start uint64) bool {
	pi, err := readStat(pid)
	if err != nil || pi.dead() {
		return false
	}
	return start == 0 || pi.start == start
}

// Check starts the VM's agent again when it does not run. It also drops
// the host token from vm.json once the agent has registered.
func (p *Provider) Check(ctx context.Context, instanceID string) error {
	if validID(instanceID) != nil {
		return fmt.Errorf("check vm %q: %w", instanceID, hostprovider.ErrNotFound)
	}
	unlock := p.locks.lock(instanceID)
	defer unlock()
	rec, err := p.readRecord(instanceID)
	if err != nil {
		return fmt.Errorf("check %w", err)
	}
	if rec.Agent.Token != "" && registered(filepath.Join(p.vmDir(instanceID), agentDataDir)) {
		rec.Agent.Token = ""
		if err := p.writeRecord(rec); err != nil {
			p.log.Warn("dropping the host token of a registered agent", "instance_id", instanceID, "err", err)
		}
	}
	if p.agentRunning(instanceID) != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("check vm %s: %w", instanceID, err)
	}
	p.log.Warn("the host agent of a vm does not run; starting it again", "instance_id", instanceID)
	if err := p.startAgent(rec); err != nil {
		return fmt.Errorf("check vm %s: %w", instanceID, err)
	}
	return nil
}

// Exec runs script with /bin/bash (/bin/sh when there is no bash) in the
// VM's directory, with HOME set to it, HERD_VM_NAME, HERD_VM_ADDRESS,
// HERD_VM_ID and a few variables of the server (PATH, LANG, LC_ALL, TZ,
// TMPDIR, USER, LOGNAME). Its output goes to the VM's user-script.log;
// Exec returns its last MaxOutput bytes. When ctx ends, the script's
// process group is killed. Processes the script leaves running keep
// running until the VM is destroyed.
func (p *Provider) Exec(ctx context.Context, instanceID string, script []byte) ([]byte, error) {
	rec, err := p.readRecord(instanceID)
	if err != nil {
		return nil, fmt.Errorf("exec on %w", err)
	}
	dir := p.vmDir(instanceID)
	f, err := os.CreateTemp(dir, "user-script-*.sh")
	if err != nil {
		return nil, fmt.Errorf("exec on vm %s: %w", instanceID, err)
	}
	path := f.Name()
	defer func() { _ = os.Remove(path) }()
	_, err = f.Write(script)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("exec on vm %s: write script: %w", instanceID, err)
	}
	logf, err := os.OpenFile(filepath.Join(dir, scriptLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("exec on vm %s: %w", instanceID, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "--- %s user script\n", p.now().UTC().Format(time.RFC3339))

	out := &outputWriter{log: logf, tail: tailBuffer{max: MaxOutput}}
	cmd := exec.CommandContext(ctx, shell(), path)
	cmd.Dir = dir
	cmd.Env = p.scriptEnv(rec)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A background process that keeps the output open does not hold Exec
	// up for longer than this after the script ended.
	cmd.WaitDelay = 5 * time.Second
	start := p.now()
	err = cmd.Run()
	output := out.tail.bytes()
	status := exitStatus(err)
	if ctx.Err() != nil && err != nil {
		status = "killed: " + ctx.Err().Error()
	}
	fmt.Fprintf(logf, "--- %s user script ended: %s\n", p.now().UTC().Format(time.RFC3339), status)
	log := p.log.With("instance_id", instanceID, "duration", p.now().Sub(start).Round(time.Millisecond))
	switch {
	case err == nil:
		log.Info("user script ran")
		return output, nil
	case ctx.Err() != nil:
		log.Warn("user script killed", "err", ctx.Err())
		return output, fmt.Errorf("user script on vm %s: %w", instanceID, ctx.Err())
	case errors.Is(err, exec.ErrWaitDelay):
		// It exited 0; something it started in the background holds its
		// output open.
		log.Info("user script ran; its background processes keep its output open")
		return output, nil
	default:
		log.Warn("user script failed", "err", err)
		return output, fmt.Errorf("user script on vm %s: %w", instanceID, err)
	}
}

func shell() string {
	if _, err := os.Stat("/bin/bash"); err == nil {
		return "/bin/bash"
	}
	return "/bin/sh"
}

// scriptEnv is the environment of a user script.
func (p *Provider) scriptEnv(rec *record) []string {
	dir := p.vmDir(rec.InstanceID)
	env := []string{
		"HOME=" + dir,
		"HERD_VM_ID=" + rec.InstanceID,
		"HERD_VM_NAME=" + rec.Name,
		"HERD_VM_ADDRESS=" + rec.Address,
		EnvVM + "=" + dir,
	}
	if _, ok := os.LookupEnv("PATH"); !ok {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	for _, k := range []string{"PATH", "LANG", "LC_ALL", "TZ", "TMPDIR", "USER", "LOGNAME"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// outputWriter writes a script's output to its log, as far as it can, and
// to the tail Exec returns.
type outputWriter struct {
	log    io.Writer
	logErr error
	tail   tailBuffer
}

func (w *outputWriter) Write(b []byte) (int, error) {
	if w.logErr == nil {
		_, w.logErr = w.log.Write(b)
	}
	return w.tail.Write(b)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte {
	if len(t.b) > t.max {
		return t.b[len(t.b)-t.max:]
	}
	return t.b
}

// Destroy stops the VM's host agent (SIGTERM, SIGKILL after 10 s), then
// every process that belongs to the VM (SIGTERM, SIGKILL after 15 s) and
// removes the VM's directory. A process belongs to the VM when its working
// directory, or one of its arguments (or the value of a --flag=value
// argument), is the VM's directory or lies under it, or when its
// environment has EnvVM set to that directory. When ctx ends, Destroy
// stops waiting and kills at once, but it still finishes. A VM that does
// not exist, or an instance ID that cannot name one, is not an error.
func (p *Provider) Destroy(ctx context.Context, instanceID string) error {
	if validID(instanceID) != nil {
		return nil
	}
	unlock := p.locks.lock(instanceID)
	defer unlock()
	if _, err := os.Lstat(p.vmDir(instanceID)); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := p.teardown(ctx, instanceID); err != nil {
		return fmt.Errorf("destroy vm %s: %w", instanceID, err)
	}
	p.log.Info("vm destroyed", "instance_id", instanceID)
	return nil
}

// teardown stops everything of a VM and removes its directory.
func (p *Provider) teardown(ctx context.Context, id string) error {
	dir := p.vmDir(id)
	if pid := p.agentRunning(id); pid != 0 {
		// The agent first, so that it restarts nothing. It leads its
		// own session and process group.
		pi, _ := readStat(pid)
		signalGroup(pid, syscall.SIGTERM)
		if !p.waitGone(ctx, []procInfo{pi}, p.agentStopTimeout) {
			p.log.Warn("the host agent did not stop on SIGTERM; killing it", "instance_id", id, "pid", pid)
			signalGroup(pid, syscall.SIGKILL)
			p.waitGone(context.Background(), []procInfo{pi}, p.killTimeout)
		}
	}
	if err := p.killUnder(ctx, dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return nil
}

func signalGroup(pid int, sig syscall.Signal) {
	if err := syscall.Kill(-pid, sig); err != nil {
		_ = syscall.Kill(pid, sig)
	}
}

// killUnder stops the processes that belong to dir: SIGTERM, and SIGKILL
// for those left after procStopTimeout (at once when ctx has ended); it
// looks again after each round, for processes started meanwhile.
func (p *Provider) killUnder(ctx context.Context, dir string) error {
	const rounds = 5
	for round := 0; ; round++ {
		procs, err := p.procsUnder(dir)
		if err != nil {
			return err
		}
		if len(procs) == 0 {
			return nil
		}
		if round == rounds {
			pids := make([]int, len(procs))
			for i, pi := range procs {
				pids[i] = pi.pid
			}
			return fmt.Errorf("processes %v of %s survive SIGKILL", pids, dir)
		}
		sig, timeout := syscall.SIGKILL, p.killTimeout
		if round == 0 && ctx.Err() == nil {
			sig, timeout = syscall.SIGTERM, p.procStopTimeout
		}
		p.log.Info("stopping the processes of a vm", "dir", dir, "count", len(procs), "signal", sig.String())
		for _, pi := range procs {
			_ = syscall.Kill(pi.pid, sig)
			if pi.pgid == pi.pid {
				_ = syscall.Kill(-pi.pid, sig)
			}
		}
		if sig == syscall.SIGTERM {
			p.waitGone(ctx, procs, timeout)
		} else {
			p.waitGone(context.Background(), procs, timeout)
		}
	}
}

// waitGone waits until none of procs runs, at most timeout or until ctx
// ends; it reports whether none runs.
func (p *Provider) waitGone(ctx context.Context, procs []procInfo, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		procs = slices.DeleteFunc(procs, func(pi procInfo) bool { return !p.alive(pi.pid, pi.start) })
		if len(procs) == 0 {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(p.poll):
		}
	}
}

// procsUnder returns the running processes that belong to dir (see
// Destroy), never this process.
func (p *Provider) procsUnder(dir string) ([]procInfo, error) {
	pids, err := listPIDs()
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	var out []procInfo
	for _, pid := range pids {
		if pid == self || pid == 1 {
			continue
		}
		pi, err := readStat(pid)
		if err != nil || pi.dead() {
			continue
		}
		if p.belongs(pid, dir) {
			out = append(out, pi)
		}
	}
	return out, nil
}

// belongs reports whether process pid belongs to dir.
func (p *Provider) belongs(pid int, dir string) bool {
	if cwd, err := procCwd(pid); err == nil && p.pathUnder(cwd, dir) {
		return true
	}
	if args, err := procCmdline(pid); err == nil {
		if slices.ContainsFunc(args, func(a string) bool { return p.argUnder(a, dir) }) {
			return true
		}
	}
	if env, err := procEnviron(pid); err == nil && slices.Contains(env, EnvVM+"="+dir) {
		return true
	}
	return false
}

// argUnder reports whether a command-line argument, or the value of a
// name=value argument, is a path under dir.
func (p *Provider) argUnder(arg, dir string) bool {
	if p.pathUnder(arg, dir) {
		return true
	}
	_, v, ok := strings.Cut(arg, "=")
	return ok && p.pathUnder(v, dir)
}

// pathUnder reports whether the absolute path path is dir or lies under
// it, dir being one of the provider's VM directories; it also matches dir
// as reached through Dir with its symbolic links resolved. Whole path
// elements are compared: Dir/vm-1 is not under Dir/vm-10.
func (p *Provider) pathUnder(path, dir string) bool {
	if !filepath.IsAbs(path) {
		return false
	}
	path = filepath.Clean(path)
	rel, err := filepath.Rel(p.dir, dir)
	if err != nil {
		return false
	}
	for _, base := range p.dirs {
		d := filepath.Join(base, rel)
		if path == d || strings.HasPrefix(path, d+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// keyedMutex is a mutex per key.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyedEntry
}

type keyedEntry struct {
	mu sync.Mutex
	n  int // holders and waiters
}

// lock locks key's mutex and returns its unlock.
func (k *keyedMutex) lock(key string) func() {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]*keyedEntry)
	}
	e := k.m[key]
	if e == nil {
		e = &keyedEntry{}
		k.m[key] = e
	}
	e.n++
	k.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.mu.Lock()
		if e.n--; e.n == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
