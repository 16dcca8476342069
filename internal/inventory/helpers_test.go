package inventory_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/inventory"
	"github.com/herdhq/herd/internal/servicetype"
	"github.com/herdhq/herd/internal/store"
)

// ttl is the host TTL of test services.
const ttl = 10 * time.Second

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is an inventory on a fresh store, with its clock and a host token.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	cat   *servicetype.Catalog
	clock *clock
	ids   *atomic.Int64
	inv   *inventory.Service
	token string
	stop  func() // ends the service's commands and waits for them
	// agents are the registered fake agents; drive makes them beat.
	agents []*fakeAgent
}

// newEnv returns an inventory whose commands run until the test ends.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "herd.db"))
	if err != nil {
		t.Fatal(err)
	}
	cat, err := servicetype.Load()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, db: db, cat: cat, ids: &atomic.Int64{},
		clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.UTC)}}
	e.inv = e.newService()
	t.Cleanup(func() {
		e.stop()
		db.Close()
	})
	tok, err := e.inv.CreateHostToken(ctx, "admin", "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.token = tok.Secret
	return e
}

// newService starts another inventory service on the env's store, as a
// restarted server would, and makes it the env's.
func (e *env) newService() *inventory.Service {
	e.t.Helper()
	inv := inventory.New(e.db, e.cat, inventory.Config{HeartbeatInterval: time.Second, TTL: ttl, Now: e.clock.Now,
		NewID: func() string { return fmt.Sprintf("id-%d", e.ids.Add(1)) }})
	ctx, cancel := context.WithCancel(e.ctx)
	if err := inv.RunCommands(ctx); err != nil {
		e.t.Fatal(err)
	}
	prev := e.stop
	e.stop = func() {
		cancel()
		inv.WaitCommands()
		if prev != nil {
			prev()
		}
	}
	e.inv = inv
	return inv
}

// fakeAgent plays a host agent: it runs what the desired state says, at
// once, and reports it with the probes it is told to report.
type fakeAgent struct {
	e     *env
	id    string
	procs map[string]*proc // role -> its running process
	pid   int
	// fields are the probe fields reported per role type.
	fields map[string]map[string]any
	// mutate changes what is reported on a role.
	mutate map[string]func(*agentapi.RoleStatus)
	// silent agents do not beat when driven.
	silent bool
}

type proc struct {
	seq  int64
	hash string
	pid  int
}

// register admits an agent for host id at addr.
func (e *env) register(id, addr string) *fakeAgent {
	e.t.Helper()
	_, err := e.inv.Register(e.ctx, agentapi.Register{Token: e.token, HostID: id, Hostname: id + ".example", Address: addr,
		Facts: facts(id)})
	if err != nil {
		e.t.Fatalf("register %s: %v", id, err)
	}
	a := &fakeAgent{e: e, id: id, procs: map[string]*proc{}, pid: 100,
		fields: map[string]map[string]any{
			"NAMENODE": {"fsState": "Operational", "liveDataNodes": 1.0, "deadDataNodes": 0.0},
			"MASTER":   {"status": "ALIVE", "aliveWorkers": 1.0},
		},
		mutate: map[string]func(*agentapi.RoleStatus){}}
	e.agents = append(e.agents, a)
	return a
}

func facts(id string) agentapi.Facts {
	return agentapi.Facts{Cores: 4, MemoryBytes: 8 << 30, DataDir: "/data/" + id, OS: "linux", MachineID: "m-" + id,
		Runtimes: map[string]string{agentapi.RuntimeHadoop: "3.4.1", agentapi.RuntimeSpark: "3.5.3"}, AgentVersion: "test"}
}

// beat applies the host's desired state and sends a heartbeat.
func (a *fakeAgent) beat() {
	a.e.t.Helper()
	d, err := a.e.inv.Desired(a.e.ctx, a.id)
	if err != nil {
		a.e.t.Fatalf("desired of %s: %v", a.id, err)
	}
	var roles []agentapi.RoleStatus
	for _, spec := range d.Roles {
		p := a.procs[spec.Name]
		switch {
		case !spec.Run:
			delete(a.procs, spec.Name)
			p = nil
		case p == nil || spec.StartSeq > p.seq:
			a.pid++
			p = &proc{seq: spec.StartSeq, hash: spec.ConfigHash, pid: a.pid}
			a.procs[spec.Name] = p
		}
		st := agentapi.RoleStatus{Name: spec.Name, State: agentapi.StateStopped}
		if p != nil {
			st = agentapi.RoleStatus{Name: spec.Name, State: agentapi.StateRunning, StartSeq: p.seq, ConfigHash: p.hash, Pid: p.pid,
				Probes: map[string]agentapi.ProbeResult{}}
			for _, pr := range spec.Probes {
				st.Probes[pr.Name] = agentapi.ProbeResult{OK: true, Fields: maps.Clone(a.fields[spec.Type]), At: a.e.clock.Now()}
			}
		}
		if f := a.mutate[spec.Name]; f != nil {
			f(&st)
		}
		roles = append(roles, st)
	}
	if _, err := a.e.inv.Heartbeat(a.e.ctx, a.id, agentapi.Heartbeat{Facts: facts(a.id), DesiredHash: d.Hash, Roles: roles}); err != nil {
		a.e.t.Fatalf("heartbeat of %s: %v", a.id, err)
	}
}

// beat makes every agent but the silent ones beat once.
func (e *env) beat() {
	e.t.Helper()
	for _, a := range e.agents {
		if !a.silent {
			a.beat()
		}
	}
}

// drive makes the agents beat until command id ends, and returns it.
func (e *env) drive(id int64) inventory.Command {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		e.beat()
		c, err := e.inv.GetCommand(e.ctx, id)
		if err != nil {
			e.t.Fatal(err)
		}
		if !c.Active {
			e.beat() // the last word: what the command left behind
			return c
		}
		time.Sleep(3 * time.Millisecond)
	}
	e.t.Fatalf("command %d still active after 20s", id)
	return inventory.Command{}
}

// mustSucceed drives command c to its end and fails unless it succeeded.
func (e *env) mustSucceed(c inventory.Command, err error) inventory.Command {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
	done := e.drive(c.ID)
	if done.Success == nil || !*done.Success {
		e.t.Fatalf("command %d %s: %q (children %+v)", done.ID, done.Name, done.ResultMessage, done.Children)
	}
	return done
}

// roleCommands runs op on roles of a service of c1 and drives the
// commands to success.
func (e *env) roleCommands(service, op string, names ...string) []inventory.Command {
	e.t.Helper()
	cmds, errs, err := e.inv.RoleCommands(e.ctx, "c1", service, op, names)
	if err != nil || len(errs) > 0 {
		e.t.Fatalf("%s of %v: %v %v", op, names, err, errs)
	}
	for i, c := range cmds {
		cmds[i] = e.mustSucceed(c, nil)
	}
	return cmds
}

// waitFor polls cond (real time, generously) until it holds.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(3 * time.Millisecond)
	}
}

// hdfs builds cluster c1 with hosts h1..hn (agents registered), an HDFS
// service HDFS-1 with its NameNode on h1 and one DataNode per host.
func (e *env) hdfs(n int) []*fakeAgent {
	e.t.Helper()
	var agents []*fakeAgent
	var ids []string
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("h%d", i)
		agents = append(agents, e.register(id, fmt.Sprintf("127.0.1.%d", i)))
		ids = append(ids, id)
	}
	e.must(e.inv.CreateCluster(e.ctx, "c1", "", "", "5.16.2"))
	e.must(e.inv.AddHosts(e.ctx, "c1", ids))
	e.must(e.inv.CreateService(e.ctx, "c1", "HDFS-1", "HDFS", ""))
	roles := []inventory.NewRole{{Name: "nn", Type: "NAMENODE", HostID: "h1"}}
	for i, id := range ids {
		roles = append(roles, inventory.NewRole{Name: fmt.Sprintf("dn%d", i+1), Type: "DATANODE", HostID: id})
	}
	e.must(e.inv.CreateRoles(e.ctx, "c1", "HDFS-1", roles))
	return agents
}

// must fails the test on err; for calls whose result is not needed.
func (e *env) must(_ any, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// wantErr checks that err is an apperr of kind whose message holds every
// one of parts.
func wantErr(t *testing.T, err error, kind apperr.Kind, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want a %v error with %q", kind, parts)
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an apperr.Error", err)
	}
	if ae.Kind != kind {
		t.Errorf("kind = %v, want %v (%v)", ae.Kind, kind, err)
	}
	for _, p := range parts {
		if !strings.Contains(apperr.Message(err), p) {
			t.Errorf("message %q does not say %q", apperr.Message(err), p)
		}
	}
}

// role returns a role's view.
func (e *env) role(service, name string) inventory.RoleView {
	e.t.Helper()
	r, err := e.inv.GetRole(e.ctx, "c1", service, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.inv.RoleViews(e.ctx, []store.RoleRow{r})[0]
}

// service returns a service's view.
func (e *env) service(name string) inventory.ServiceView {
	e.t.Helper()
	svc, err := e.inv.GetService(e.ctx, "c1", name)
	if err != nil {
		e.t.Fatal(err)
	}
	v, err := e.inv.ServiceStatus(e.ctx, svc)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func checkNames(h inventory.Health) []string {
	out := make([]string, 0, len(h.Checks))
	for _, c := range h.Checks {
		out = append(out, c.Name+"="+c.Summary)
	}
	return out
}

// failed makes a role's process fail to start.
func failed(msg string) func(*agentapi.RoleStatus) {
	return func(st *agentapi.RoleStatus) {
		if st.State == agentapi.StateRunning {
			code := 1
			st.State, st.Pid, st.ExitCode, st.Message, st.Probes = agentapi.StateFailed, 0, &code, msg, nil
		}
	}
}

// probeFails makes a running role's probes fail.
func probeFails(msg string) func(*agentapi.RoleStatus) {
	return func(st *agentapi.RoleStatus) {
		for name := range st.Probes {
			st.Probes[name] = agentapi.ProbeResult{Error: msg}
		}
	}
}
