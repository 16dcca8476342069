package inventory_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/inventory"
	"github.com/herdhq/herd/internal/store"
)

// sparkAndHDFS builds cluster c1 over hosts h1 and h2: HDFS-1 (nn and dn1
// on h1, dn2 on h2) and SPARK-1 (master and w1 on h1, w2 on h2), started,
// with probes that see every DataNode and worker.
func (e *env) sparkAndHDFS() (h1, h2 *fakeAgent) {
	e.t.Helper()
	agents := e.hdfs(2)
	e.must(e.inv.CreateService(e.ctx, "c1", "SPARK-1", "SPARK", ""))
	e.must(e.inv.CreateRoles(e.ctx, "c1", "SPARK-1", []inventory.NewRole{
		{Name: "master", Type: "MASTER", HostID: "h1"}, {Name: "w1", Type: "WORKER", HostID: "h1"}, {Name: "w2", Type: "WORKER", HostID: "h2"}}))
	agents[0].fields["NAMENODE"]["liveDataNodes"] = 2.0
	agents[0].fields["MASTER"]["aliveWorkers"] = 2.0
	e.mustSucceed(e.inv.ClusterCommand(e.ctx, "c1", inventory.OpStart))
	return agents[0], agents[1]
}

// health describes the state and health of every entity of sparkAndHDFS,
// one line each.
func (e *env) health() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	line := func(state string, h inventory.Health) string {
		return strings.TrimSpace(fmt.Sprintf("%s %s %s", state, h.Summary, strings.Join(checkNames(h), " ")))
	}
	for _, svc := range []string{"HDFS-1", "SPARK-1"} {
		roles, err := e.inv.ListRoles(e.ctx, "c1", svc)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, v := range e.inv.RoleViews(e.ctx, roles) {
			out[v.Name] = line(v.State, v.Health)
		}
		v := e.service(svc)
		out[svc] = line(v.State, v.Health)
	}
	c, err := e.inv.GetCluster(e.ctx, "c1")
	if err != nil {
		e.t.Fatal(err)
	}
	cv, err := e.inv.ClusterStatus(e.ctx, c)
	if err != nil {
		e.t.Fatal(err)
	}
	out["c1"] = line(cv.State, cv.Health)
	hosts, err := e.inv.ListHosts(e.ctx, "")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, h := range hosts {
		out[h.ID] = line(fmt.Sprint("live=", h.Live), h.Health)
	}
	return out
}

// explanations returns the explanations of an entity's checks.
func (e *env) explanations(role string) string {
	e.t.Helper()
	for _, svc := range []string{"HDFS-1", "SPARK-1"} {
		if svc == role {
			v := e.service(svc)
			return fmt.Sprint(v.Health.Checks)
		}
		if r, err := e.inv.GetRole(e.ctx, "c1", svc, role); err == nil {
			return fmt.Sprint(e.inv.RoleViews(e.ctx, []store.RoleRow{r})[0].Health.Checks)
		}
	}
	h, err := e.inv.GetHost(e.ctx, role)
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprint(h.Health.Checks)
}

const (
	nnGood     = "STARTED GOOD ROLE_PROCESS_STATUS=GOOD ROLE_PROBE_fsnamesystem=GOOD NAMENODE_SAFE_MODE=GOOD"
	dnGood     = "STARTED GOOD ROLE_PROCESS_STATUS=GOOD ROLE_PROBE_web=GOOD"
	masterGood = "STARTED GOOD ROLE_PROCESS_STATUS=GOOD ROLE_PROBE_master=GOOD"
	workerGood = "STARTED GOOD ROLE_PROCESS_STATUS=GOOD ROLE_PROBE_worker=GOOD"
	hdfsGood   = "STARTED GOOD HDFS_NAMENODE_HEALTH=GOOD HDFS_DATA_NODES_HEALTHY=GOOD HDFS_SAFE_MODE=GOOD"
	sparkGood  = "STARTED GOOD SPARK_MASTER_HEALTH=GOOD SPARK_ALIVE_WORKERS=GOOD"
	hostGood   = "live=true GOOD HOST_AGENT_HEARTBEAT=GOOD"
)

// TestHealth changes what the agents report and checks how it rolls up
// from roles to services to the cluster.
func TestHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h1, h2 := e.sparkAndHDFS()
	allGood := map[string]string{
		"nn": nnGood, "dn1": dnGood, "dn2": dnGood, "master": masterGood, "w1": workerGood, "w2": workerGood,
		"HDFS-1": hdfsGood, "SPARK-1": sparkGood, "c1": "STARTED GOOD", "h1": hostGood, "h2": hostGood,
	}
	exited := func(st *agentapi.RoleStatus) {
		code := 3
		st.State, st.Pid, st.ExitCode, st.Message, st.Probes = agentapi.StateExited, 0, &code, "java.lang.OutOfMemoryError", nil
	}
	tests := []struct {
		name  string
		setup func()
		want  map[string]string // entries that differ from allGood
		// explain maps an entity to text its checks' explanations hold.
		explain map[string]string
	}{
		{name: "all good", explain: map[string]string{"HDFS-1": "2 of 2 DataNodes are live.", "SPARK-1": "2 of 2 workers are live."}},
		{name: "NameNode sees one DataNode of two",
			setup: func() { h1.fields["NAMENODE"]["liveDataNodes"] = 1.0 },
			want: map[string]string{
				"HDFS-1": "STARTED CONCERNING HDFS_NAMENODE_HEALTH=GOOD HDFS_DATA_NODES_HEALTHY=CONCERNING HDFS_SAFE_MODE=GOOD",
				"c1":     "STARTED CONCERNING"},
			explain: map[string]string{"HDFS-1": "1 of 2 DataNodes are live."}},
		{name: "NameNode sees no DataNode",
			setup: func() { h1.fields["NAMENODE"]["liveDataNodes"] = 0.0 },
			want: map[string]string{
				"HDFS-1": "STARTED BAD HDFS_NAMENODE_HEALTH=GOOD HDFS_DATA_NODES_HEALTHY=BAD HDFS_SAFE_MODE=GOOD",
				"c1":     "STARTED BAD"}},
		{name: "NameNode in safe mode",
			setup: func() { h1.fields["NAMENODE"]["fsState"] = "safeMode" },
			want: map[string]string{
				"nn":     "STARTED CONCERNING ROLE_PROCESS_STATUS=GOOD ROLE_PROBE_fsnamesystem=GOOD NAMENODE_SAFE_MODE=CONCERNING",
				"HDFS-1": "STARTED CONCERNING HDFS_NAMENODE_HEALTH=CONCERNING HDFS_DATA_NODES_HEALTHY=GOOD HDFS_SAFE_MODE=CONCERNING",
				"c1":     "STARTED CONCERNING"},
			explain: map[string]string{"nn": "The NameNode is in state safeMode."}},
		{name: "NameNode probe fails",
			setup: func() { h1.mutate["nn"] = probeFails("connection refused") },
			want: map[string]string{
				"nn":     "STARTED BAD ROLE_PROCESS_STATUS=GOOD ROLE_PROBE_fsnamesystem=BAD NAMENODE_SAFE_MODE=NOT_AVAILABLE",
				"HDFS-1": "STARTED BAD HDFS_NAMENODE_HEALTH=BAD HDFS_DATA_NODES_HEALTHY=NOT_AVAILABLE HDFS_SAFE_MODE=NOT_AVAILABLE",
				"c1":     "STARTED BAD"},
			explain: map[string]string{"nn": "The probe fails: connection refused"}},
		{name: "NameNode exited",
			setup: func() { h1.mutate["nn"] = exited },
			want: map[string]string{
				"nn":     "STOPPED BAD ROLE_PROCESS_STATUS=BAD",
				"HDFS-1": "STARTED BAD HDFS_NAMENODE_HEALTH=BAD HDFS_DATA_NODES_HEALTHY=BAD HDFS_SAFE_MODE=NOT_AVAILABLE",
				"c1":     "STARTED BAD"},
			explain: map[string]string{"nn": "The role's process is not running: exited, exit code 3: java.lang.OutOfMemoryError",
				"HDFS-1": "the master role is not running"}},
		{name: "new DataNode process not probed yet",
			setup: func() {
				h2.mutate["dn2"] = func(st *agentapi.RoleStatus) {
					st.Pid = 9999
					probeFails("connection refused")(st)
				}
			},
			want: map[string]string{
				"dn2":    "STARTING CONCERNING ROLE_PROCESS_STATUS=GOOD ROLE_PROBE_web=CONCERNING",
				"HDFS-1": "STARTING CONCERNING " + strings.TrimPrefix(hdfsGood, "STARTED GOOD "),
				"c1":     "STARTED CONCERNING"}},
		{name: "Spark master sees one worker of two",
			setup: func() { h1.fields["MASTER"]["aliveWorkers"] = 1.0 },
			want: map[string]string{
				"SPARK-1": "STARTED CONCERNING SPARK_MASTER_HEALTH=GOOD SPARK_ALIVE_WORKERS=CONCERNING",
				"c1":      "STARTED CONCERNING"},
			explain: map[string]string{"SPARK-1": "1 of 2 workers are live."}},
		{name: "worst service decides the cluster",
			setup: func() {
				h1.fields["NAMENODE"]["liveDataNodes"] = 0.0
				h1.fields["MASTER"]["aliveWorkers"] = 1.0
			},
			want: map[string]string{
				"HDFS-1":  "STARTED BAD HDFS_NAMENODE_HEALTH=GOOD HDFS_DATA_NODES_HEALTHY=BAD HDFS_SAFE_MODE=GOOD",
				"SPARK-1": "STARTED CONCERNING SPARK_MASTER_HEALTH=GOOD SPARK_ALIVE_WORKERS=CONCERNING",
				"c1":      "STARTED BAD"}},
		{name: "Spark master without status",
			setup: func() { delete(h1.fields["MASTER"], "aliveWorkers") },
			want: map[string]string{
				"SPARK-1": "STARTED NOT_AVAILABLE SPARK_MASTER_HEALTH=GOOD SPARK_ALIVE_WORKERS=NOT_AVAILABLE",
				"c1":      "STARTED NOT_AVAILABLE"},
			explain: map[string]string{"SPARK-1": "The master does not report its live workers yet."}},
		{name: "host misses its TTL",
			setup: func() {
				h2.silent = true
				e.clock.Advance(ttl + time.Second)
				h1.fields["NAMENODE"]["liveDataNodes"] = 1.0
				h1.fields["MASTER"]["aliveWorkers"] = 1.0
			},
			want: map[string]string{
				"h2":      "live=false BAD HOST_AGENT_HEARTBEAT=BAD",
				"dn2":     "UNKNOWN NOT_AVAILABLE ROLE_HOST_HEALTH=BAD",
				"w2":      "UNKNOWN NOT_AVAILABLE ROLE_HOST_HEALTH=BAD",
				"HDFS-1":  "STARTED CONCERNING HDFS_NAMENODE_HEALTH=GOOD HDFS_DATA_NODES_HEALTHY=CONCERNING HDFS_SAFE_MODE=GOOD",
				"SPARK-1": "STARTED CONCERNING SPARK_MASTER_HEALTH=GOOD SPARK_ALIVE_WORKERS=CONCERNING",
				"c1":      "STARTED CONCERNING"},
			explain: map[string]string{
				"h2":  "has not sent a heartbeat within its TTL of 10s. Last heartbeat: 2026-01-02T03:04:05Z.",
				"dn2": "The agent of host h2 is not in contact"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			e.beat()
			want := map[string]string{}
			for k, v := range allGood {
				want[k] = v
			}
			for k, v := range tc.want {
				want[k] = v
			}
			if diff := cmp.Diff(want, e.health()); diff != "" {
				t.Errorf("health (-want +got):\n%s", diff)
			}
			for what, text := range tc.explain {
				if got := e.explanations(what); !strings.Contains(got, text) {
					t.Errorf("checks of %s do not explain %q: %s", what, text, got)
				}
			}
			// Back to all good.
			h1.fields["NAMENODE"] = map[string]any{"fsState": "Operational", "liveDataNodes": 2.0, "deadDataNodes": 0.0}
			h1.fields["MASTER"] = map[string]any{"status": "ALIVE", "aliveWorkers": 2.0}
			h1.mutate, h2.mutate = map[string]func(*agentapi.RoleStatus){}, map[string]func(*agentapi.RoleStatus){}
			h2.silent = false
			e.beat()
			if diff := cmp.Diff(allGood, e.health()); diff != "" {
				t.Fatalf("health after the case (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHealthOfStoppedAndNew(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.sparkAndHDFS()
	e.must(e.inv.CreateHost(e.ctx, "h3", "", "", ""))
	e.mustSucceed(e.inv.ClusterCommand(e.ctx, "c1", inventory.OpStop))
	const stopped = "STOPPED DISABLED"
	want := map[string]string{
		"nn": stopped, "dn1": stopped, "dn2": stopped, "master": stopped, "w1": stopped, "w2": stopped,
		"HDFS-1": stopped, "SPARK-1": stopped, "c1": stopped, "h1": hostGood, "h2": hostGood,
		"h3": "live=false BAD HOST_AGENT_HEARTBEAT=BAD",
	}
	if diff := cmp.Diff(want, e.health()); diff != "" {
		t.Errorf("health after a stop (-want +got):\n%s", diff)
	}
	if got := e.explanations("h3"); !strings.Contains(got, "No agent has registered for this host.") {
		t.Errorf("checks of a host without agent: %s", got)
	}
	// One role started is enough for its service and cluster to be; a
	// stopped service does not count towards the cluster's health.
	e.roleCommands("SPARK-1", inventory.OpStart, "master")
	want["master"] = masterGood
	want["SPARK-1"] = sparkGood
	want["c1"] = "STARTED GOOD"
	if diff := cmp.Diff(want, e.health()); diff != "" {
		t.Errorf("health with the master started (-want +got):\n%s", diff)
	}
}
