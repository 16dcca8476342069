package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/fileutil"
	"github.com/herdhq/herd/internal/runner"
)

// Config is what an Agent needs.
type Config struct {
	// ServerURL is the herd server's base URL, e.g. http://10.0.0.1:7180.
	ServerURL string
	// Token is a host token, needed only to register: on the first start,
	// and again if the server no longer knows the host's identity.
	Token string
	// Address is the IP address roles bind to; required.
	Address string
	// Hostname is reported to the server; os.Hostname when empty.
	Hostname string
	// DataDir holds the agent's identity and its roles; required. It is
	// created with mode 0700.
	DataDir string
	// Executable is the binary that acts as the runner wrapper of role
	// processes (see runner.MaybeWrapper); os.Executable when empty.
	Executable string
	// HTTPClient talks to the server; a client without timeout when nil
	// (every call has its own deadline).
	HTTPClient *http.Client
	// Logger is where the agent logs; discarded when nil.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// HadoopHome, SparkHome and SparkVenv are passed to the runtime
	// discoverers (internal/hadooprt, internal/sparkrt).
	HadoopHome string
	SparkHome  string
	SparkVenv  string
	// LogMaxBytes is the size above which a role's stdout.log or stderr.log
	// is rotated (10 MiB when zero); LogKeep is how many rotated files are
	// kept (5 when zero).
	LogMaxBytes int64
	LogKeep     int
	// Version is the agent's version, reported in the host's facts.
	Version string
}

// Defaults of Config.
const (
	DefaultLogMaxBytes = 10 << 20
	DefaultLogKeep     = 5
)

// timings are the agent's fixed durations; tests shorten them.
type timings struct {
	// Server calls after a failure wait retryMin, doubled after each
	// further failure up to retryMax.
	retryMin, retryMax time.Duration

	// Automatic restarts wait restartMin, doubled after each restart up
	// to restartMax; a process that stayed up restartReset resets it.
	restartMin, restartMax, restartReset time.Duration

	logCheck        time.Duration // how often logs are checked for rotation
	probeTimeout    time.Duration
	interval        time.Duration // heartbeat interval until the server says
	requestTimeout  time.Duration // register and heartbeat calls
	pollSlack       time.Duration // added to agentapi.WaitTimeout for the long poll
	stopTimeout     time.Duration // when a RoleSpec has none
	minPollInterval time.Duration // between long polls that changed nothing
}

func defaultTimings() timings {
	return timings{
		retryMin: time.Second, retryMax: 30 * time.Second,
		restartMin: time.Second, restartMax: time.Minute, restartReset: time.Minute,
		logCheck:     5 * time.Second,
		probeTimeout: 2 * time.Second,
		interval:     10 * time.Second, requestTimeout: 30 * time.Second,
		pollSlack:   15 * time.Second,
		stopTimeout: 10 * time.Second, minPollInterval: time.Second,
	}
}

// Agent is a host agent. Create it with New and run it with Run.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	getenv   func(string) string
	client   *client
	runner   *runner.Runner
	probes   *http.Client
	t        timings
	discover func(context.Context) runtimes
	rolesDir string
	started  atomic.Bool

	hbKick   chan struct{} // a heartbeat is due at once
	pollKick chan struct{} // the desired state may have changed

	// wg counts the goroutines of supervisors and their helpers.
	wg sync.WaitGroup

	mu       sync.Mutex
	id       identity
	interval time.Duration
	rts      runtimes
	sups     map[string]*supervisor // roles of the desired state, or found on disk
	removing map[string]*supervisor // roles being stopped and forgotten
	invalid  []agentapi.RoleStatus  // specs the agent cannot accept
	applied  string                 // hash of the desired state applied
	host     hostInfo
}

// New checks cfg, fills in its defaults, creates the data directory and
// reads the agent's identity, if it has one.
func New(cfg Config) (*Agent, error) {
	if cfg.ServerURL == "" {
		return nil, errors.New("new agent: the server URL is required")
	}
	u, err := url.Parse(cfg.ServerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("new agent: the server URL %q is not an http(s) URL", cfg.ServerURL)
	}
	if cfg.Address == "" {
		return nil, errors.New("new agent: the address roles bind to is required")
	}
	if net.ParseIP(cfg.Address) == nil {
		return nil, fmt.Errorf("new agent: the address %q is not an IP address", cfg.Address)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("new agent: the data directory is required")
	}
	if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
		return nil, fmt.Errorf("new agent: %w", err)
	}
	if cfg.Hostname == "" {
		if cfg.Hostname, err = os.Hostname(); err != nil {
			return nil, fmt.Errorf("new agent: host name: %w", err)
		}
	}
	if cfg.Executable == "" {
		if cfg.Executable, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("new agent: find own executable: %w", err)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LogMaxBytes <= 0 {
		cfg.LogMaxBytes = DefaultLogMaxBytes
	}
	if cfg.LogKeep <= 0 {
		cfg.LogKeep = DefaultLogKeep
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	rolesDir := filepath.Join(cfg.DataDir, "roles")
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("new agent: create data directory: %w", err)
	}
	if err := os.MkdirAll(rolesDir, 0o700); err != nil {
		return nil, fmt.Errorf("new agent: create roles directory: %w", err)
	}
	id, err := loadIdentity(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("new agent: %w", err)
	}
	if id.HostID == "" && cfg.Token == "" {
		return nil, fmt.Errorf("new agent: %s holds no identity and no host token is configured to register with", identityPath(cfg.DataDir))
	}
	log := cfg.Logger.With("component", "agent")
	t := defaultTimings()
	probeTransport := http.DefaultTransport.(*http.Transport).Clone()
	probeTransport.Proxy = nil // probes go to the host's own roles
	a := &Agent{
		cfg:      cfg,
		log:      log,
		now:      cfg.Now,
		getenv:   os.Getenv,
		client:   newClient(cfg.ServerURL, cfg.HTTPClient, cfg.Version),
		runner:   runner.New(cfg.Executable, cfg.Logger.With("component", "runner")),
		probes:   &http.Client{Transport: probeTransport},
		t:        t,
		rolesDir: rolesDir,
		hbKick:   make(chan struct{}, 1),
		pollKick: make(chan struct{}, 1),
		id:       id,
		interval: t.interval,
		sups:     map[string]*supervisor{},
		removing: map[string]*supervisor{},
		host:     readHostInfo(),
	}
	a.discover = a.discoverRuntimes
	return a, nil
}

// HostID returns the host id the server gave this agent, or "" before the
// first registration.
func (a *Agent) HostID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.id.HostID
}

// Run runs the agent until ctx is cancelled: it discovers the runtimes,
// re-attaches to the role processes of a previous run, registers if it has
// no identity yet, then heartbeats and reconciles the roles to the server's
// desired state. Failures to reach the server are retried, never returned.
// When Run returns, role processes keep running. Run may be called once.
func (a *Agent) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("run agent: Run was called before")
	}
	unlock, err := fileutil.LockDir(a.cfg.DataDir, "agent", "herd agent")
	if err != nil {
		return err
	}
	defer unlock()
	a.log.Info("herd agent starting", "server", a.cfg.ServerURL, "hostname", a.cfg.Hostname,
		"address", a.cfg.Address, "data_dir", a.cfg.DataDir, "version", a.cfg.Version)

	rts := a.discover(ctx)
	a.mu.Lock()
	a.rts = rts
	a.mu.Unlock()
	for name, problem := range rts.problems() {
		a.log.Warn("runtime not available; its roles cannot start here", "runtime", name, "problem", problem)
	}
	if err := a.loadRoles(ctx); err != nil {
		return err
	}

	var wg sync.WaitGroup
	wg.Go(func() { a.logLoop(ctx) })
	wg.Go(func() { a.serverLoop(ctx) })
	<-ctx.Done()
	wg.Wait()
	a.wg.Wait()
	a.probes.CloseIdleConnections()
	a.log.Info("herd agent stopped; role processes keep running")
	return nil
}

// loadRoles starts a supervisor for each role a previous run left in the
// data directory, which re-attaches to its process.
func (a *Agent) loadRoles(ctx context.Context) error {
	entries, err := os.ReadDir(a.rolesDir)
	if err != nil {
		return fmt.Errorf("read roles directory: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range entries {
		if !e.IsDir() || validRoleName(e.Name()) != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(a.rolesDir, e.Name(), stateFile)); err != nil {
			continue // a role removed earlier: only its logs are left
		}
		a.startSupervisor(ctx, e.Name())
	}
	return nil
}

// startSupervisor starts the supervisor of role name; a.mu is held.
func (a *Agent) startSupervisor(ctx context.Context, name string) *supervisor {
	s := newSupervisor(a, name, a.removing[name])
	a.sups[name] = s
	a.wg.Go(func() {
		s.run(ctx)
		a.mu.Lock()
		if a.removing[name] == s {
			delete(a.removing, name)
		}
		a.mu.Unlock()
	})
	return s
}

// apply hands the desired state d to the roles' supervisors.
func (a *Agent) apply(ctx context.Context, d agentapi.Desired) {
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := map[string]bool{}
	a.invalid = nil
	for _, spec := range d.Roles {
		if err := validRoleName(spec.Name); err != nil || seen[spec.Name] {
			msg := "the agent cannot accept this role: "
			if err != nil {
				msg += err.Error()
			} else {
				msg += "its name is listed twice"
			}
			a.log.Error("bad role in the desired state", "role", spec.Name, "problem", msg)
			a.invalid = append(a.invalid, agentapi.RoleStatus{Name: spec.Name, State: agentapi.StateFailed, Message: msg})
			continue
		}
		seen[spec.Name] = true
		s := a.sups[spec.Name]
		if s == nil {
			s = a.startSupervisor(ctx, spec.Name)
		}
		s.setSpec(spec)
	}
	for name, s := range a.sups {
		if !seen[name] {
			a.log.Info("role no longer desired; stopping and forgetting it", "role", name)
			s.remove()
			delete(a.sups, name)
			a.removing[name] = s
		}
	}
	if a.applied != d.Hash {
		a.log.Info("desired state applied", "hash", d.Hash, "roles", len(d.Roles))
	}
	a.applied = d.Hash
	a.kickHeartbeat()
}

// statuses reports every role, sorted by name.
func (a *Agent) statuses() []agentapi.RoleStatus {
	a.mu.Lock()
	sups := make([]*supervisor, 0, len(a.sups))
	for _, s := range a.sups {
		sups = append(sups, s)
	}
	out := slices.Clone(a.invalid)
	a.mu.Unlock()
	for _, s := range sups {
		out = append(out, s.status())
	}
	slices.SortFunc(out, func(x, y agentapi.RoleStatus) int { return strings.Compare(x.Name, y.Name) })
	if out == nil {
		out = []agentapi.RoleStatus{}
	}
	return out
}

func (a *Agent) appliedHash() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.applied
}

func (a *Agent) heartbeatInterval() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.interval
}

func (a *Agent) setInterval(d agentapi.Duration) {
	if d <= 0 {
		return
	}
	a.mu.Lock()
	a.interval = time.Duration(d)
	a.mu.Unlock()
}

func (a *Agent) runtimes() runtimes {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rts
}

// kickHeartbeat asks for a heartbeat at once; kicks coalesce.
func (a *Agent) kickHeartbeat() {
	select {
	case a.hbKick <- struct{}{}:
	default:
	}
}

func (a *Agent) kickPoll() {
	select {
	case a.pollKick <- struct{}{}:
	default:
	}
}

// validRoleName checks that a role name is a safe file name.
func validRoleName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("role name %q is not a file name", name)
	case len(name) > 200:
		return errors.New("role name is longer than 200 bytes")
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("role name %q holds a slash or NUL", name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("role name %q starts with a dot", name)
	}
	return nil
}
