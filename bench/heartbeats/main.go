//go:build linux

// Command heartbeats measures the herd server's host-agent heartbeat path
// under a fleet of simulated agents: by default 1,000 agents, each sending
// one heartbeat a second and keeping one desired-state long poll open, as
// internal/agent does. It reports the heartbeat latency (p50, p90, p99,
// max; send to reply body read, exact percentiles of every heartbeat sent
// in the measured window) and the CPU the server used, in cores averaged
// over that window, and judges them against the targets (p99 under 50 ms,
// server CPU under 1 core).
//
// The server runs as a separate process (herd server, built from ./cmd/herd
// unless -herd names a binary) so that its CPU can be read alone from
// /proc; the load generator shares the machine with it, and the report
// shows how much CPU each side and everything else on the machine used.
// Every host gets a DATANODE of one HDFS service (host 0 also the
// NAMENODE), so every heartbeat answers with a rendered desired state. The
// roles stay stopped: no process is started.
//
// A run has four phases: set-up (register the agents, build the cluster
// through the CM API); ramp (the agents start, spread over one interval,
// until each has received its first desired state, the server rendering
// every host's state once, and has had a heartbeat reporting that state
// answered); warm-up (-warmup); the measured window (-duration). A
// heartbeat that fails or is not answered 200 in any phase fails the run,
// and so does an agent whose last desired state lacks one of its roles.
//
// Run it from the repository root (Linux only; it reads /proc):
//
//	go run ./bench/heartbeats                              # 1,000 agents, 10 s warm-up, 60 s measured
//	go run ./bench/heartbeats -agents 100 -duration 10s
//	go run ./bench/heartbeats -herd bin/herd -agents 2000  # a prebuilt server
//
// The report goes to standard output, progress to standard error. It exits
// with status 1 when a heartbeat fails or a target is missed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/herdhq/herd/bench/internal/benchserver"
	"github.com/herdhq/herd/internal/agentapi"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc: 100 on every
// Linux architecture Go supports (getconf CLK_TCK); reading it would take
// sysconf, which needs cgo.
const clockTicks = 100

// requestTimeout bounds a heartbeat, as the agent's requestTimeout does.
const requestTimeout = 30 * time.Second

// pollSlack is added to agentapi.WaitTimeout for a long poll, as the agent
// does.
const pollSlack = 15 * time.Second

const (
	clusterName = "bench"
	serviceName = "HDFS-1"
	apiPrefix   = "/api/v19"
)

type options struct {
	herd     string
	agents   int
	interval time.Duration
	warmup   time.Duration
	duration time.Duration
	batch    int
	maxP99   time.Duration
	maxCPU   float64
}

func main() {
	var o options
	flag.StringVar(&o.herd, "herd", "", "herd binary to run as the server (default: go build ./cmd/herd into a temporary directory)")
	flag.IntVar(&o.agents, "agents", 1000, "simulated host agents")
	flag.DurationVar(&o.interval, "interval", time.Second, "heartbeat interval of each agent (also the server's --heartbeat-interval)")
	flag.DurationVar(&o.warmup, "warmup", 10*time.Second, "load before the measured window, once every agent has its desired state")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "measured window")
	flag.IntVar(&o.batch, "batch", 100, "hosts or roles per CM API request while setting up")
	flag.DurationVar(&o.maxP99, "max-p99", 50*time.Millisecond, "target: heartbeat latency p99 below this")
	flag.Float64Var(&o.maxCPU, "max-cpu", 1, "target: server CPU below this many cores")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	pass, err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "heartbeats:", err)
		os.Exit(1)
	}
	if !pass {
		os.Exit(1)
	}
}

func (o options) validate() error {
	switch {
	case o.agents < 1:
		return errors.New("-agents must be at least 1")
	case o.interval < 100*time.Millisecond:
		return errors.New("-interval must be at least 100ms (the server's minimum)")
	case o.warmup < 0:
		return errors.New("-warmup must not be negative")
	case o.duration < o.interval:
		return errors.New("-duration must be at least one -interval")
	case o.batch < 1:
		return errors.New("-batch must be at least 1")
	}
	return nil
}

// run sets the server up, runs the load and prints the report; it returns
// whether the run passed.
func run(ctx context.Context, o options) (bool, error) {
	if err := o.validate(); err != nil {
		return false, err
	}
	tmp, err := os.MkdirTemp("", "herd-heartbeats-")
	if err != nil {
		return false, fmt.Errorf("create temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp) //nolint:errcheck // a temporary directory
	bin := o.herd
	if bin == "" {
		bin = filepath.Join(tmp, "herd")
		fmt.Fprintln(os.Stderr, "building ./cmd/herd ...")
		if err := benchserver.Build(ctx, "", bin); err != nil {
			return false, fmt.Errorf("%w\n(run from the repository root, or pass -herd)", err)
		}
	}

	ttl := max(10*time.Second, 3*o.interval)
	srv, err := benchserver.Start(ctx, benchserver.Config{Bin: bin, Dir: tmp, Args: []string{
		"--local-agent=false", "--heartbeat-interval", o.interval.String(), "--host-ttl", ttl.String(),
	}})
	if err != nil {
		return false, err
	}
	defer srv.Stop()
	fmt.Fprintf(os.Stderr, "server pid %d on %s\n", srv.Pid(), srv.URL)

	// One transport for every agent, as if they shared a connection pool:
	// each agent keeps a long poll open, so up to two connections per agent.
	var dials atomic.Int64
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 2*o.agents + 16,
		MaxConnsPerHost:     2*o.agents + 16,
		IdleConnTimeout:     90 * time.Second,
	}
	defer tr.CloseIdleConnections()
	c := &client{base: srv.URL, hc: &http.Client{Transport: tr}}

	agents, took, err := setUp(ctx, c, srv, o)
	if err != nil {
		return false, err
	}

	res, err := load(ctx, c, srv, agents, o, &dials)
	if err != nil {
		return false, err
	}
	res.setup = took
	res.serverLog = srv.LogSummary()
	res.serverGo = benchserver.GoVersion(bin)
	return res.print(os.Stdout, o), nil
}

// --- HTTP -------------------------------------------------------------------

// client makes the calls of the agent protocol and the set-up calls.
type client struct {
	base string
	hc   *http.Client
}

// statusError is an answer with an unexpected status.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("server answered %d %s: %s", e.code, http.StatusText(e.code), e.body)
}

// agentCall makes an agent protocol call with the headers internal/agent
// sends: JSON, its User-Agent and "Authorization: Bearer hostId:secret".
func (c *client) agentCall(ctx context.Context, method, path, bearer string, in, out any) error {
	return c.call(ctx, c.hc, method, path, func(r *http.Request) {
		r.Header.Set("User-Agent", "herd-agent/bench")
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
	}, in, out)
}

// call sends in as JSON (when not nil) and decodes a 2xx answer into out
// (when not nil), reading the body to its end so the connection is reused;
// other answers are a *statusError.
func (c *client) call(ctx context.Context, hc *http.Client, method, path string, auth func(*http.Request), in, out any) error {
	body := io.Reader(http.NoBody)
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	auth(req)
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_, _ = io.Copy(io.Discard, resp.Body)
		return &statusError{code: resp.StatusCode, body: strings.TrimSpace(string(b))}
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	return nil
}

// admin makes calls as the admin user, with Basic and the session cookie
// the server answers with.
type admin struct {
	c        *client
	hc       *http.Client
	password string
}

func (a *admin) call(ctx context.Context, method, path string, in, out any) error {
	err := a.c.call(ctx, a.hc, method, path, func(r *http.Request) { r.SetBasicAuth("admin", a.password) }, in, out)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// --- set-up ---------------------------------------------------------------

// agent is one simulated host agent.
type agent struct {
	idx      int
	hostID   string
	bearer   string // hostId:secret
	hostname string
	address  string
	facts    agentapi.Facts

	mu    sync.Mutex
	hash  string                // of the desired state applied
	roles []agentapi.RoleStatus // one per role of that state

	// Written by the agent's own goroutines only, read after they end.
	beats      []beat
	polls      []poll
	hasDesired bool // a desired state came
	settled    bool // a heartbeat with a desired state's hash was answered
}

// beat is one heartbeat.
type beat struct {
	sent time.Time
	lat  time.Duration // send to reply body read
	lag  time.Duration // sent after its scheduled time by this much
	code int           // 0 when no answer came
	err  error
	// skipped counts the slots that passed while this heartbeat was out,
	// the first at skippedFrom; they were not sent.
	skipped     int
	skippedFrom time.Time
}

// poll is one answered (or failed) desired-state long poll.
type poll struct {
	at      time.Time
	changed bool
	err     error
}

const nameNode = "namenode"

func (a *agent) dataNode() string { return fmt.Sprintf("datanode-%04d", a.idx) }

// missingRoles returns the roles of the host that its last desired state
// does not list.
func (a *agent) missingRoles() []string {
	want := []string{a.dataNode()}
	if a.idx == 0 {
		want = append(want, nameNode)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.DeleteFunc(want, func(name string) bool {
		return slices.ContainsFunc(a.roles, func(r agentapi.RoleStatus) bool { return r.Name == name })
	})
}

func newAgent(i int) *agent {
	n := i + 1
	return &agent{
		idx:      i,
		hostname: fmt.Sprintf("dn%04d.bench.herd.internal", i),
		address:  fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255),
		facts: agentapi.Facts{
			Cores: 16, MemoryBytes: 128 << 30, DiskBytes: 8 << 40, DiskFree: 6 << 40,
			DataDir: "/data/herd", OS: "Ubuntu 24.04.2 LTS linux/amd64", MachineID: fmt.Sprintf("%032x", n),
			Runtimes: map[string]string{
				agentapi.RuntimeExec: "builtin", agentapi.RuntimeHadoop: "3.4.1", agentapi.RuntimeSpark: "3.5.6",
			},
			AgentVersion: "bench",
		},
	}
}

// setupTimes is how long the steps of the set-up took.
type setupTimes struct {
	register, hosts, roles time.Duration
}

// setUp registers the agents and builds the cluster: one HDFS service, a
// DATANODE on every host and the NAMENODE on host 0.
func setUp(ctx context.Context, c *client, srv *benchserver.Server, o options) ([]*agent, setupTimes, error) {
	var took setupTimes
	agents, err := setUpAgents(ctx, c, srv, o, &took)
	if err == nil {
		fmt.Fprintf(os.Stderr, "set up in %s: register %s, cluster and hosts %s, service and roles %s\n",
			(took.register + took.hosts + took.roles).Round(time.Millisecond), took.register.Round(time.Millisecond),
			took.hosts.Round(time.Millisecond), took.roles.Round(time.Millisecond))
	}
	return agents, took, err
}

func setUpAgents(ctx context.Context, c *client, srv *benchserver.Server, o options, took *setupTimes) ([]*agent, error) {
	pw, err := srv.AdminPassword()
	if err != nil {
		return nil, err
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("create cookie jar: %w", err)
	}
	step := time.Now()
	lap := func(d *time.Duration) {
		now := time.Now()
		*d, step = now.Sub(step), now
	}
	adm := &admin{c: c, hc: &http.Client{Transport: c.hc.Transport, Jar: jar}, password: pw}
	var tok struct {
		Token string `json:"token"`
	}
	if err := adm.call(ctx, http.MethodPost, "/herd/v1/host-tokens", map[string]string{"description": "heartbeat bench"}, &tok); err != nil {
		return nil, fmt.Errorf("create host token: %w", err)
	}

	agents := make([]*agent, o.agents)
	for i := range agents {
		agents[i] = newAgent(i)
	}
	if err := registerAll(ctx, c, tok.Token, agents); err != nil {
		return nil, err
	}
	lap(&took.register)

	type item = map[string]any
	hostRef := func(a *agent) item { return item{"hostId": a.hostID} }
	if err := adm.call(ctx, http.MethodPost, apiPrefix+"/clusters",
		item{"items": []item{{"name": clusterName, "fullVersion": "7.1.9"}}}, nil); err != nil {
		return nil, fmt.Errorf("create cluster: %w", err)
	}
	for chunk := range slices.Chunk(agents, o.batch) {
		items := make([]item, 0, len(chunk))
		for _, a := range chunk {
			items = append(items, hostRef(a))
		}
		if err := adm.call(ctx, http.MethodPost, apiPrefix+"/clusters/"+clusterName+"/hosts", item{"items": items}, nil); err != nil {
			return nil, fmt.Errorf("add hosts: %w", err)
		}
	}
	lap(&took.hosts)
	if err := adm.call(ctx, http.MethodPost, apiPrefix+"/clusters/"+clusterName+"/services",
		item{"items": []item{{"name": serviceName, "type": "HDFS"}}}, nil); err != nil {
		return nil, fmt.Errorf("create service: %w", err)
	}
	roles := []item{{"name": nameNode, "type": "NAMENODE", "hostRef": hostRef(agents[0])}}
	for _, a := range agents {
		roles = append(roles, item{"name": a.dataNode(), "type": "DATANODE", "hostRef": hostRef(a)})
	}
	for chunk := range slices.Chunk(roles, o.batch) {
		if err := adm.call(ctx, http.MethodPost, apiPrefix+"/clusters/"+clusterName+"/services/"+serviceName+"/roles",
			item{"items": chunk}, nil); err != nil {
			return nil, fmt.Errorf("create roles: %w", err)
		}
	}
	lap(&took.roles)
	return agents, nil
}

// registerAll registers the agents, a few at a time.
func registerAll(ctx context.Context, c *client, token string, agents []*agent) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan *agent)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for a := range next {
				var out agentapi.Registered
				err := c.agentCall(ctx, http.MethodPost, agentapi.RegisterPath, "",
					agentapi.Register{Token: token, Hostname: a.hostname, Address: a.address, Facts: a.facts}, &out)
				if err != nil {
					cancel(fmt.Errorf("register agent %d: %w", a.idx, err))
					continue
				}
				a.hostID, a.bearer = out.HostID, out.HostID+":"+out.Secret
			}
		})
	}
	for _, a := range agents {
		select {
		case next <- a:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

// --- the load -------------------------------------------------------------

// heartbeats sends a heartbeat at start, start+interval, ... until ctx
// ends, one at a time as the agent does: a heartbeat that falls due while
// the previous one is still out goes when that one is answered (its lag
// says how late), and the slots that passed meanwhile are skipped.
func (a *agent) heartbeats(ctx context.Context, c *client, start time.Time, interval time.Duration, ramp *rampCounts) {
	due := start
	timer := time.NewTimer(time.Until(due))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		a.mu.Lock()
		hb := agentapi.Heartbeat{Facts: a.facts, DesiredHash: a.hash, Roles: slices.Clone(a.roles)}
		a.mu.Unlock()
		if hb.Roles == nil {
			hb.Roles = []agentapi.RoleStatus{}
		}
		// An answer under way when the load stops is still waited for.
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), requestTimeout)
		sent := time.Now()
		var reply agentapi.HeartbeatReply
		err := c.agentCall(hctx, http.MethodPost, agentapi.HeartbeatPath, a.bearer, hb, &reply)
		lat := time.Since(sent)
		cancel()
		b := beat{sent: sent, lat: lat, lag: sent.Sub(due), err: err}
		var se *statusError
		switch {
		case err == nil:
			b.code = http.StatusOK
			if hb.DesiredHash != "" && !a.settled {
				a.settled = true
				ramp.settled.Add(1)
			}
		case errors.As(err, &se):
			b.code = se.code
		}
		due = due.Add(interval)
		if behind := time.Since(due); behind > interval {
			b.skipped, b.skippedFrom = int(behind/interval), due
			due = due.Add(behind / interval * interval)
		}
		a.beats = append(a.beats, b)
		timer.Reset(time.Until(due))
	}
}

// desiredLoop keeps a long poll for the desired state open from start on,
// as the agent's desiredLoop does, and takes each new state as applied:
// every role is reported stopped.
func (a *agent) desiredLoop(ctx context.Context, c *client, start time.Time, ramp *rampCounts) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(time.Until(start)):
	}
	for ctx.Err() == nil {
		a.mu.Lock()
		after := a.hash
		a.mu.Unlock()
		began := time.Now()
		pctx, cancel := context.WithTimeout(ctx, agentapi.WaitTimeout+pollSlack)
		var d agentapi.Desired
		err := c.agentCall(pctx, http.MethodGet, agentapi.DesiredPath+"?after="+url.QueryEscape(after), a.bearer, nil, &d)
		cancel()
		if ctx.Err() != nil {
			return
		}
		a.polls = append(a.polls, poll{at: time.Now(), changed: err == nil && d.Hash != after, err: err})
		if err == nil && d.Hash != after {
			roles := make([]agentapi.RoleStatus, 0, len(d.Roles))
			for _, spec := range d.Roles {
				roles = append(roles, agentapi.RoleStatus{Name: spec.Name, State: agentapi.StateStopped})
			}
			slices.SortFunc(roles, func(x, y agentapi.RoleStatus) int { return strings.Compare(x.Name, y.Name) })
			a.mu.Lock()
			a.hash, a.roles = d.Hash, roles
			a.mu.Unlock()
			if !a.hasDesired {
				a.hasDesired = true
				ramp.desired.Add(1)
			}
			continue
		}
		// As the agent: an unchanged answer (or a failure) that came at
		// once must not turn the long poll into a busy loop.
		if time.Since(began) < time.Second {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// rampCounts counts the agents that have their first desired state, and
// those that have had a heartbeat reporting it answered.
type rampCounts struct {
	desired, settled atomic.Int64
}

// cpuSample is the CPU time used so far by the server, this process and
// the whole machine.
type cpuSample struct {
	at           time.Time
	server, self float64 // seconds
	machineBusy  float64 // seconds, all CPUs
}

func sampleCPU(pid int) (cpuSample, error) {
	s := cpuSample{at: time.Now()}
	var err error
	if s.server, err = procCPU(strconv.Itoa(pid)); err != nil {
		return s, err
	}
	if s.self, err = procCPU("self"); err != nil {
		return s, err
	}
	if s.machineBusy, err = machineCPU(); err != nil {
		return s, err
	}
	return s, nil
}

// procCPU returns utime+stime of a process, in seconds.
func procCPU(pid string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read process CPU time: %w", err)
	}
	// The fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("read process CPU time: /proc/" + pid + "/stat has no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("read process CPU time: /proc/" + pid + "/stat is too short")
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read process CPU time: %w", err)
	}
	return (utime + stime) / clockTicks, nil
}

// machineCPU returns the busy CPU time of the machine, in seconds summed
// over its CPUs, from the first line of /proc/stat.
func machineCPU() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("read machine CPU time: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, errors.New("read machine CPU time: unexpected /proc/stat")
	}
	// user nice system idle iowait irq softirq steal (guest time is in
	// user); all but idle and iowait are busy.
	var busy float64
	for i, v := range f[1:9] {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("read machine CPU time: %w", err)
		}
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy / clockTicks, nil
}

// procStatus returns a field of /proc/<pid>/status, such as "VmHWM".
func procStatus(pid int, field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// result is what a run measured.
type result struct {
	setup     setupTimes
	toDesired time.Duration // from the start of the load until every agent had its desired state
	ramp      time.Duration // until every agent had a heartbeat reporting it answered
	rampCPU   float64       // server CPU seconds used in the ramp
	window    time.Duration // wall time of the measured window
	before    cpuSample     // at the start of the window
	after     cpuSample     // at its end
	serverHWM string        // the server's peak resident memory
	serverRSS string        // and its resident memory at the end
	serverLog string
	serverGo  string

	warm     phase // ramp and warm-up
	measured phase
	lat      []time.Duration // of the measured heartbeats, sorted
	lag      []time.Duration // of the measured heartbeats, sorted
	dials    struct{ before, during int64 }
	// Heartbeats sent before the window and answered in it, and how far
	// into it the last answer came.
	outAtStart    int
	outAtStartMax time.Duration
	// Agents whose last desired state lacks one of their roles.
	incomplete        int
	incompleteExample string
}

// phase counts what happened in a phase.
type phase struct {
	beats, failed, non200, skipped, late int
	firstErr                             string
	polls, pollErrs, changes             int
	firstPollErr                         string
}

// load runs the agents: until each has its desired state, then for the
// warm-up, then for the measured window.
func load(ctx context.Context, c *client, srv *benchserver.Server, agents []*agent, o options, dials *atomic.Int64) (*result, error) {
	pid := srv.Pid()
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	finish := func() { stop(); wg.Wait() }
	res := &result{}
	sleep := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			finish()
			return fmt.Errorf("run load: %w", ctx.Err())
		case <-srv.Done():
			finish()
			return fmt.Errorf("run load: %w", srv.Exited())
		case <-time.After(d):
			return nil
		}
	}

	rampStart, err := sampleCPU(pid)
	if err != nil {
		return nil, err
	}
	var ramp rampCounts
	for i, a := range agents {
		// Agents start spread evenly over the first interval: no
		// thundering herd.
		first := rampStart.at.Add(time.Duration(int64(o.interval) * int64(i) / int64(len(agents))))
		wg.Go(func() { a.desiredLoop(lctx, c, first, &ramp) })
		wg.Go(func() { a.heartbeats(lctx, c, first, o.interval, &ramp) })
	}
	const rampLimit = 5 * time.Minute
	n := int64(len(agents))
	for ramp.settled.Load() < n {
		if res.toDesired == 0 && ramp.desired.Load() == n {
			res.toDesired = time.Since(rampStart.at)
		}
		if time.Since(rampStart.at) > rampLimit {
			finish()
			return nil, fmt.Errorf("run load: after %s, %d of %d agents have their desired state and %d had a heartbeat reporting it answered",
				rampLimit, ramp.desired.Load(), n, ramp.settled.Load())
		}
		if err := sleep(20 * time.Millisecond); err != nil {
			return nil, err
		}
	}
	rampEnd, err := sampleCPU(pid)
	if err != nil {
		finish()
		return nil, err
	}
	res.ramp, res.rampCPU = rampEnd.at.Sub(rampStart.at), rampEnd.server-rampStart.server
	if res.toDesired == 0 {
		res.toDesired = res.ramp
	}
	fmt.Fprintf(os.Stderr, "ramp done after %s (every agent had its desired state after %s); warming up for %s\n",
		res.ramp.Round(time.Millisecond), res.toDesired.Round(time.Millisecond), o.warmup)
	if err := sleep(o.warmup); err != nil {
		return nil, err
	}

	if res.before, err = sampleCPU(pid); err != nil {
		finish()
		return nil, err
	}
	res.dials.before = dials.Load()
	fmt.Fprintf(os.Stderr, "measuring for %s\n", o.duration)
	if err := sleep(o.duration); err != nil {
		return nil, err
	}
	if res.after, err = sampleCPU(pid); err != nil {
		finish()
		return nil, err
	}
	res.dials.during = dials.Load() - res.dials.before
	res.serverHWM, res.serverRSS = procStatus(pid, "VmHWM"), procStatus(pid, "VmRSS")
	finish()

	res.window = res.after.at.Sub(res.before.at)
	res.collect(agents, o.interval)
	return res, nil
}

// collect splits the agents' records into warm-up (everything before the
// window) and the measured window.
func (r *result) collect(agents []*agent, interval time.Duration) {
	t0, t1 := r.before.at, r.after.at
	for _, a := range agents {
		for _, b := range a.beats {
			for k := range b.skipped {
				if slot := b.skippedFrom.Add(time.Duration(k) * interval); !slot.After(t1) {
					if slot.Before(t0) {
						r.warm.skipped++
					} else {
						r.measured.skipped++
					}
				}
			}
			if b.sent.After(t1) {
				continue
			}
			if answered := b.sent.Add(b.lat); b.sent.Before(t0) && answered.After(t0) {
				r.outAtStart++
				r.outAtStartMax = max(r.outAtStartMax, answered.Sub(t0))
			}
			p := &r.warm
			if !b.sent.Before(t0) {
				p = &r.measured
				r.lat = append(r.lat, b.lat)
				r.lag = append(r.lag, b.lag)
			}
			p.beats++
			if b.lag > interval/10 {
				p.late++
			}
			switch {
			case b.code == 0:
				p.failed++
			case b.code != http.StatusOK:
				p.non200++
			}
			if b.err != nil && p.firstErr == "" {
				p.firstErr = b.err.Error()
			}
		}
		for _, pl := range a.polls {
			if pl.at.After(t1) {
				continue
			}
			p := &r.warm
			if !pl.at.Before(t0) {
				p = &r.measured
			}
			p.polls++
			if pl.changed {
				p.changes++
			}
			if pl.err != nil {
				p.pollErrs++
				if p.firstPollErr == "" {
					p.firstPollErr = pl.err.Error()
				}
			}
		}
	}
	slices.Sort(r.lat)
	slices.Sort(r.lag)
	for _, a := range agents {
		if missing := a.missingRoles(); len(missing) > 0 {
			if r.incomplete == 0 {
				r.incompleteExample = fmt.Sprintf("%s lacks %s", a.hostname, strings.Join(missing, ", "))
			}
			r.incomplete++
		}
	}
}

// percentile returns the p-th percentile of sorted samples by the
// nearest-rank method: the smallest sample that at least p% of the samples
// are at or below.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(k, 1), len(sorted))-1]
}

// --- the report -------------------------------------------------------------

// print writes the report and returns whether the run passed.
func (r *result) print(w io.Writer, o options) bool {
	wall := r.window.Seconds()
	serverCores := (r.after.server - r.before.server) / wall
	selfCores := (r.after.self - r.before.self) / wall
	busy := (r.after.machineBusy - r.before.machineBusy) / wall
	p99 := percentile(r.lat, 99)
	m, wu := r.measured, r.warm
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }

	fmt.Fprintf(w, "herd heartbeat bench\n")
	fmt.Fprintf(w, "machine:     %s; load average %s at the end\n", benchserver.Machine(), benchserver.LoadAvg())
	fmt.Fprintf(w, "go:          bench %s, server %s\n", runtime.Version(), r.serverGo)
	fmt.Fprintf(w, "load:        %d agents, 1 heartbeat each per %s, 1 desired-state long poll each kept open; %d HDFS roles, stopped\n",
		o.agents, o.interval, o.agents+1)
	fmt.Fprintf(w, "set-up:      register %s, cluster and hosts %s, service and roles %s\n",
		ms(r.setup.register), ms(r.setup.hosts), ms(r.setup.roles))
	fmt.Fprintf(w, "ramp:        %s: every agent had its first desired state after %s; server CPU %.1f s\n",
		ms(r.ramp), ms(r.toDesired), r.rampCPU)
	fmt.Fprintf(w, "warm-up:     ramp + %s: %d heartbeats, %d failed, %d non-200, %d late, %d slots skipped; %d long polls answered, %d failed\n",
		o.warmup, wu.beats, wu.failed, wu.non200, wu.late, wu.skipped, wu.polls, wu.pollErrs)
	fmt.Fprintf(w, "window:      %s measured; %d heartbeats of the warm-up still out at its start, the last answered %s into it\n",
		ms(r.window), r.outAtStart, ms(r.outAtStartMax))
	fmt.Fprintf(w, "heartbeats:  %d sent, %.1f/s (target %.1f/s), %d failed, %d non-200, %d slots skipped\n",
		m.beats, float64(m.beats)/wall, float64(o.agents)/o.interval.Seconds(), m.failed, m.non200, m.skipped)
	fmt.Fprintf(w, "latency:     p50 %s  p90 %s  p99 %s  max %s\n",
		fmtDur(percentile(r.lat, 50)), fmtDur(percentile(r.lat, 90)), fmtDur(p99), fmtDur(percentile(r.lat, 100)))
	fmt.Fprintf(w, "send lag:    p50 %s  p99 %s  max %s behind schedule; %d sent over %s late\n",
		fmtDur(percentile(r.lag, 50)), fmtDur(percentile(r.lag, 99)), fmtDur(percentile(r.lag, 100)), m.late, o.interval/10)
	fmt.Fprintf(w, "long polls:  %d answered, %d with a new desired state, %d failed\n", m.polls, m.changes, m.pollErrs)
	reuse := "all reused"
	if r.dials.during > 0 {
		reuse = "the pool grew: more requests in flight at once than before"
	}
	fmt.Fprintf(w, "connections: %d opened before the window, %d during it (%s)\n", r.dials.before, r.dials.during, reuse)
	fmt.Fprintf(w, "server CPU:  %.3f cores (utime+stime over the window); RSS peak %s, at the end %s\n",
		serverCores, fmtKB(r.serverHWM), fmtKB(r.serverRSS))
	fmt.Fprintf(w, "bench CPU:   %.3f cores (this load generator, on the same machine)\n", selfCores)
	fmt.Fprintf(w, "machine CPU: %.3f of %d cores busy; %.3f cores used by other processes\n",
		busy, runtime.NumCPU(), max(0, busy-serverCores-selfCores))
	fmt.Fprintf(w, "server log:  %s\n", r.serverLog)
	if e := firstOf(m.firstErr, wu.firstErr); e != "" {
		fmt.Fprintf(w, "first heartbeat error: %s\n", e)
	}
	if e := firstOf(m.firstPollErr, wu.firstPollErr); e != "" {
		fmt.Fprintf(w, "first long-poll error: %s\n", e)
	}

	latOK, cpuOK := len(r.lat) > 0 && p99 < o.maxP99, serverCores < o.maxCPU
	failures := m.failed + m.non200 + wu.failed + wu.non200
	fmt.Fprintf(w, "target p99:  %s < %s: %s\n", fmtDur(p99), o.maxP99, verdict(latOK))
	fmt.Fprintf(w, "target CPU:  %.3f < %g cores: %s\n", serverCores, o.maxCPU, verdict(cpuOK))
	fmt.Fprintf(w, "failures:    %d heartbeats failed or not 200 (warm-up and window): %s\n", failures, verdict(failures == 0))
	if r.incomplete == 0 {
		fmt.Fprintf(w, "desired:     every agent's last desired state lists its roles: PASS\n")
	} else {
		fmt.Fprintf(w, "desired:     %d agents' last desired state lacks roles (%s): FAIL\n", r.incomplete, r.incompleteExample)
	}
	pass := latOK && cpuOK && failures == 0 && r.incomplete == 0
	fmt.Fprintf(w, "RESULT:      %s\n", verdict(pass))
	return pass
}

// fmtKB formats a /proc size such as "95024 kB" in MiB.
func fmtKB(s string) string {
	v, unit, _ := strings.Cut(s, " ")
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || unit != "kB" {
		return s
	}
	return fmt.Sprintf("%.0f MiB", n/1024)
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}
