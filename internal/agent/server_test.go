package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/runner"
)

// fakeServer implements the server side of agentapi for tests.
type fakeServer struct {
	t        *testing.T
	srv      *httptest.Server
	token    string
	interval time.Duration
	wait     time.Duration // the long poll's WaitTimeout

	mu            sync.Mutex
	fail          bool              // answer 503 to everything
	hosts         map[string]string // host id -> secret
	registrations []agentapi.Register
	desired       agentapi.Desired
	desiredCh     chan struct{} // closed when desired changes
	heartbeats    int
	unauthorized  int
	last          agentapi.Heartbeat
	lastHost      string
	history       map[string][]string // role -> states reported, without repeats
	nextID        int
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	fs := &fakeServer{
		t: t, token: "hht_test", interval: 100 * time.Millisecond, wait: time.Second,
		hosts: map[string]string{}, desiredCh: make(chan struct{}), history: map[string][]string{},
		desired: agentapi.Desired{Hash: "empty", Roles: []agentapi.RoleSpec{}},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+agentapi.RegisterPath, fs.register)
	mux.HandleFunc("POST "+agentapi.HeartbeatPath, fs.heartbeat)
	mux.HandleFunc("GET "+agentapi.DesiredPath, fs.getDesired)
	fs.srv = httptest.NewServer(mux)
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *fakeServer) failing() bool {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.fail
}

func (fs *fakeServer) register(w http.ResponseWriter, r *http.Request) {
	if fs.failing() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	var req agentapi.Register
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if req.Token != fs.token {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	fs.mu.Lock()
	fs.registrations = append(fs.registrations, req)
	id := req.HostID
	if id == "" {
		fs.nextID++
		id = fmt.Sprintf("host-%d", fs.nextID)
	}
	secret := fmt.Sprintf("secret-%d", len(fs.registrations))
	fs.hosts[id] = secret
	fs.mu.Unlock()
	writeJSON(w, agentapi.Registered{HostID: id, Secret: secret,
		HeartbeatInterval: agentapi.Duration(fs.interval), TTL: agentapi.Duration(3 * fs.interval)})
}

// auth returns the host id of the request, or answers 401.
func (fs *fakeServer) auth(w http.ResponseWriter, r *http.Request) (string, bool) {
	cred, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	id, secret, _ := strings.Cut(cred, ":")
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if want, ok := fs.hosts[id]; !ok || want != secret {
		fs.unauthorized++
		http.Error(w, "unknown host", http.StatusUnauthorized)
		return "", false
	}
	return id, true
}

func (fs *fakeServer) heartbeat(w http.ResponseWriter, r *http.Request) {
	if fs.failing() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	id, ok := fs.auth(w, r)
	if !ok {
		return
	}
	var hb agentapi.Heartbeat
	if err := json.NewDecoder(r.Body).Decode(&hb); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fs.mu.Lock()
	fs.heartbeats++
	fs.last, fs.lastHost = hb, id
	for _, rs := range hb.Roles {
		h := fs.history[rs.Name]
		if len(h) == 0 || h[len(h)-1] != rs.State {
			fs.history[rs.Name] = append(h, rs.State)
		}
	}
	hash := fs.desired.Hash
	fs.mu.Unlock()
	writeJSON(w, agentapi.HeartbeatReply{HeartbeatInterval: agentapi.Duration(fs.interval),
		TTL: agentapi.Duration(3 * fs.interval), DesiredHash: hash})
}

func (fs *fakeServer) getDesired(w http.ResponseWriter, r *http.Request) {
	if fs.failing() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if _, ok := fs.auth(w, r); !ok {
		return
	}
	after := r.URL.Query().Get("after")
	timeout := time.NewTimer(fs.wait)
	defer timeout.Stop()
	for {
		fs.mu.Lock()
		d, ch := fs.desired, fs.desiredCh
		fs.mu.Unlock()
		if d.Hash != after {
			writeJSON(w, d)
			return
		}
		select {
		case <-ch:
		case <-timeout.C:
			writeJSON(w, d)
			return
		case <-r.Context().Done():
			return
		}
	}
}

// setDesired makes roles the host's desired state.
func (fs *fakeServer) setDesired(roles ...agentapi.RoleSpec) string {
	if roles == nil {
		roles = []agentapi.RoleSpec{}
	}
	b, _ := json.Marshal(roles)
	sum := sha256.Sum256(b)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.desired = agentapi.Desired{Hash: hex.EncodeToString(sum[:8]), Roles: roles}
	close(fs.desiredCh)
	fs.desiredCh = make(chan struct{})
	return fs.desired.Hash
}

// forget makes the server refuse the host's secret.
func (fs *fakeServer) forget(id string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(fs.hosts, id)
}

func (fs *fakeServer) setFail(fail bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.fail = fail
}

func (fs *fakeServer) lastHeartbeat() (agentapi.Heartbeat, int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.last, fs.heartbeats
}

func (fs *fakeServer) states(role string) []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]string(nil), fs.history[role]...)
}

func (fs *fakeServer) regs() []agentapi.Register {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]agentapi.Register(nil), fs.registrations...)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// eventually polls cond every 10ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitRole waits until the last heartbeat reports role so that cond holds,
// and returns that report.
func (fs *fakeServer) waitRole(t *testing.T, role string, what string, cond func(agentapi.RoleStatus) bool) agentapi.RoleStatus {
	t.Helper()
	var got agentapi.RoleStatus
	deadline := time.Now().Add(15 * time.Second)
	for {
		hb, _ := fs.lastHeartbeat()
		found := false
		for _, rs := range hb.Roles {
			if rs.Name == role {
				got, found = rs, true
			}
		}
		if found && cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(got)
			t.Fatalf("role %s: timed out waiting for %s; last report (found %v): %s; states: %v", role, what, found, b, fs.states(role))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitState waits for role to be reported in state.
func (fs *fakeServer) waitState(t *testing.T, role, state string) agentapi.RoleStatus {
	t.Helper()
	return fs.waitRole(t, role, "state "+state, func(rs agentapi.RoleStatus) bool { return rs.State == state })
}

// waitApplied waits until a heartbeat says the agent applied hash.
func (fs *fakeServer) waitApplied(t *testing.T, hash string) {
	t.Helper()
	eventually(t, 15*time.Second, "desired state "+hash+" applied", func() bool {
		hb, _ := fs.lastHeartbeat()
		return hb.DesiredHash == hash
	})
}

// testTimings are short enough for tests.
func testTimings() timings {
	t := defaultTimings()
	t.retryMin, t.retryMax = 20*time.Millisecond, 200*time.Millisecond
	t.restartMin, t.restartMax, t.restartReset = 100*time.Millisecond, 400*time.Millisecond, 10*time.Second
	t.logCheck = 50 * time.Millisecond
	t.interval = 100 * time.Millisecond
	t.requestTimeout = 5 * time.Second
	t.pollSlack = 5 * time.Second
	t.stopTimeout = 2 * time.Second
	t.minPollInterval = 20 * time.Millisecond
	return t
}

// testConfig is the Config of a test agent of fs on dataDir.
func testConfig(t *testing.T, fs *fakeServer, dataDir string) Config {
	t.Helper()
	return Config{
		ServerURL: fs.srv.URL, Token: fs.token, Address: "127.0.0.1", Hostname: "test-host",
		DataDir: dataDir, Executable: wrapperExe, Version: "test",
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// newTestAgent makes an agent of cfg with test timings and no runtime but
// exec, and arranges for every role process under its data directory to
// be killed when the test ends.
func newTestAgent(t *testing.T, cfg Config) *Agent {
	t.Helper()
	killRolesAtCleanup(t, cfg.DataDir)
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.t = testTimings()
	a.interval = a.t.interval
	a.discover = func(context.Context) runtimes {
		return runtimes{sparkErr: "no Spark in tests", hadoopErr: "no Hadoop in tests"}
	}
	return a
}

var killOnce sync.Map // data dir -> true: cleanups registered

// killRolesAtCleanup kills, when the test ends, every role process whose
// run directory is under dataDir.
func killRolesAtCleanup(t *testing.T, dataDir string) {
	t.Helper()
	if _, loaded := killOnce.LoadOrStore(dataDir, true); loaded {
		return
	}
	t.Cleanup(func() {
		killOnce.Delete(dataDir)
		dirs, _ := filepath.Glob(filepath.Join(dataDir, "roles", "*", runDirName))
		r := runner.New(wrapperExe, nil)
		for _, d := range dirs {
			if p, err := r.Attach(d); err == nil {
				if err := p.Stop(10 * time.Millisecond); err != nil {
					t.Errorf("kill role process in %s: %v", d, err)
				}
			}
		}
	})
}

// runAgent runs a until the returned function is called (or the test ends)
// and checks that Run returned nil.
func runAgent(t *testing.T, a *Agent) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Errorf("Run did not return after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// startAgent starts a test agent of fs on a new data directory and waits
// for its first heartbeat.
func startAgent(t *testing.T, fs *fakeServer) (*Agent, string) {
	t.Helper()
	dataDir := t.TempDir()
	a := newTestAgent(t, testConfig(t, fs, dataDir))
	runAgent(t, a)
	eventually(t, 15*time.Second, "first heartbeat", func() bool { _, n := fs.lastHeartbeat(); return n > 0 })
	return a, dataDir
}

// shRole is a role that runs script with /bin/sh.
func shRole(name, script string) agentapi.RoleSpec {
	return agentapi.RoleSpec{
		Name: name, Type: "TEST", Service: "test", Run: true, StartSeq: 1, ConfigHash: "h1",
		Launch:      agentapi.Launch{Runtime: agentapi.RuntimeExec, Command: []string{"/bin/sh", "-c", script}},
		StopTimeout: agentapi.Duration(2 * time.Second),
	}
}

// alive reports whether pid is a live process (not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && len(b) > i+2 && b[i+2] != 'Z' && b[i+2] != 'X'
}

// children lists the child processes of pid, from every thread.
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			var c int
			if _, err := fmt.Sscan(s, &c); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// killCommand kills, with SIGKILL, the command of the role process whose
// wrapper is wrapperPid.
func killCommand(t *testing.T, wrapperPid int) {
	t.Helper()
	var kids []int
	eventually(t, 5*time.Second, "the wrapper's command", func() bool {
		kids = children(wrapperPid)
		return len(kids) > 0
	})
	for _, c := range kids {
		if err := syscall.Kill(c, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Fatal(err)
		}
	}
}

// readFile returns the content of path, or "" when it cannot be read.
func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
