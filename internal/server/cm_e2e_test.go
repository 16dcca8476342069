package server_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/hadooprt"
	"github.com/herdhq/herd/internal/server/servertest"
)

// cmClient calls the CM API as admin.
type cmClient struct {
	t    *testing.T
	base string
	pw   string
}

func (c cmClient) call(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	st, _, raw := call(c.t, method, c.base+path, jsonBody(c.t, body), headers{"Authorization": basic("admin", c.pw), "Content-Type": "application/json"})
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return st, out
}

func (c cmClient) must(method, path string, body any) map[string]any {
	c.t.Helper()
	st, out := c.call(method, path, body)
	if st != http.StatusOK && st != http.StatusCreated {
		c.t.Fatalf("%s %s: %d %v", method, path, st, out)
	}
	return out
}

// waitCommand polls a command until it ends and fails the test unless it
// succeeded.
func (c cmClient) waitCommand(cmd map[string]any, timeout time.Duration) {
	c.t.Helper()
	if err := c.commandResult(cmd, timeout); err != nil {
		c.t.Fatal(err)
	}
}

// commandResult polls a command until it ends and says why it did not
// succeed.
func (c cmClient) commandResult(cmd map[string]any, timeout time.Duration) error {
	c.t.Helper()
	id := int64(cmd["id"].(float64))
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		st, cur := c.call("GET", fmt.Sprintf("/api/v19/commands/%d", id), nil)
		if st != http.StatusOK {
			return fmt.Errorf("command %d: %d %v", id, st, cur)
		}
		if cur["active"] == false {
			if cur["success"] != true {
				return fmt.Errorf("command %d %s failed: %v (children %v)", id, cur["name"], cur["resultMessage"], cur["children"])
			}
			return nil
		}
	}
	return fmt.Errorf("command %d did not end in %s", id, timeout)
}

// cmCluster is the three-host cluster of TestClusterManagerHDFSAndSpark.
type cmCluster struct {
	t      *testing.T // of the step running
	env    *servertest.Env
	cm     cmClient
	agents []*agentProc
	hosts  []string // host ids of 127.0.1.1..3
	hrt    hadooprt.Runtime
}

const cmPath = "/api/v19/clusters/Cluster%201"

// TestClusterManagerHDFSAndSpark builds a cluster of three hosts, each a
// host agent process of its own on a loopback address, through the CM API;
// runs real HDFS (a NameNode, three DataNodes) and Spark (a master, two
// workers) on it; and goes through lifecycle, configuration, health and
// the cm_api client's walkthrough on that one cluster, to keep the number
// of JVMs the suite starts small.
func TestClusterManagerHDFSAndSpark(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real HDFS and Spark daemons")
	}
	hrt := requireHadoop(t)
	// The wall clock: host TTLs and command times must pass.
	env := servertest.StartWithClock(t, servertest.WallClock())
	c := &cmCluster{env: env, cm: cmClient{t: t, base: env.URL, pw: env.AdminPassword}, hrt: hrt}
	cm := c.cm
	tok := cm.must("POST", "/herd/v1/host-tokens", map[string]string{"description": "test"})
	root := t.TempDir()
	for i := 1; i <= 3; i++ {
		c.agents = append(c.agents, startAgentProcess(t, agentSpec{
			Server: env.URL, Token: tok["token"].(string), Address: fmt.Sprintf("127.0.1.%d", i), Hostname: fmt.Sprintf("h%d", i),
			DataDir: filepath.Join(root, fmt.Sprintf("h%d", i)), HadoopHome: hrt.Home, SparkVenv: filepath.Join(servertest.ModuleRoot(), ".venv"),
		}))
	}
	t.Cleanup(func() {
		// Not fatal: whatever happens, the agents and the role
		// processes must go.
		if st, cmd := cm.call("POST", cmPath+"/commands/stop", nil); st == http.StatusOK {
			if err := cm.commandResult(cmd, 2*time.Minute); err != nil {
				t.Error(err)
			}
		}
		for _, a := range c.agents {
			a.stop(syscall.SIGTERM)
			if t.Failed() {
				t.Logf("agent %s log:\n%s", a.spec.Hostname, a.tail())
			}
		}
		if left := killLeftovers(root); left != "" {
			t.Errorf("role processes left after the cluster stopped: %s", left)
		}
	})
	byAddr := map[string]string{}
	eventually(t, 60*time.Second, "three hosts registered", func() bool {
		for _, h := range cm.must("GET", "/api/v19/hosts", nil)["items"].([]any) {
			h := h.(map[string]any)
			byAddr[h["ipAddress"].(string)] = h["hostId"].(string)
		}
		return len(byAddr) == 3
	})
	c.hosts = []string{byAddr["127.0.1.1"], byAddr["127.0.1.2"], byAddr["127.0.1.3"]}

	steps := []struct {
		name string
		fn   func(*cmCluster)
	}{
		{"build and start", (*cmCluster).buildAndStart},
		{"hdfs and spark", (*cmCluster).hdfsAndSpark},
		{"restart with wait", (*cmCluster).restart},
		{"config staleness", (*cmCluster).configStaleness},
		{"auto restart", (*cmCluster).autoRestart},
		{"agent killed", (*cmCluster).agentKilled},
		{"cm_api walkthrough", (*cmCluster).walkthrough},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { c.t, c.cm.t = t, t; s.fn(c) }) {
			return
		}
	}
}

func (c *cmCluster) buildAndStart() {
	t := c.t
	cm := c.cm
	h1, h2, h3 := c.hosts[0], c.hosts[1], c.hosts[2]
	cm.must("POST", "/api/v19/clusters", map[string]any{"items": []any{map[string]any{"name": "Cluster 1", "fullVersion": "5.16.2"}}})
	cm.must("POST", cmPath+"/hosts", map[string]any{"items": []any{map[string]string{"hostId": h1}, map[string]string{"hostId": h2}, map[string]string{"hostId": h3}}})
	cm.must("POST", cmPath+"/services", map[string]any{"items": []any{
		map[string]string{"name": "HDFS-1", "type": "HDFS"}, map[string]string{"name": "SPARK-1", "type": "SPARK"}}})
	role := func(name, typ, host string) map[string]any {
		return map[string]any{"name": name, "type": typ, "hostRef": map[string]string{"hostId": host}}
	}
	cm.must("POST", cmPath+"/services/HDFS-1/roles", map[string]any{"items": []any{
		role("HDFS-1-NAMENODE-1", "NAMENODE", h1), role("HDFS-1-DATANODE-1", "DATANODE", h1),
		role("HDFS-1-DATANODE-2", "DATANODE", h2), role("HDFS-1-DATANODE-3", "DATANODE", h3)}})
	cm.must("POST", cmPath+"/services/SPARK-1/roles", map[string]any{"items": []any{
		role("SPARK-1-MASTER-1", "MASTER", h1), role("SPARK-1-WORKER-1", "WORKER", h2), role("SPARK-1-WORKER-2", "WORKER", h3)}})

	start := time.Now()
	cm.waitCommand(cm.must("POST", cmPath+"/commands/start", nil), 4*time.Minute)
	t.Logf("cluster start command took %s", time.Since(start).Round(time.Millisecond))
	c.waitGood(t, time.Minute)
	t.Logf("all GOOD %s after the start command", time.Since(start).Round(time.Millisecond))
}

// waitGood waits until both services are STARTED and GOOD.
func (c *cmCluster) waitGood(t *testing.T, timeout time.Duration) {
	t.Helper()
	for _, svc := range []string{"HDFS-1", "SPARK-1"} {
		var s map[string]any
		deadline := time.Now().Add(timeout)
		for {
			s = c.cm.must("GET", cmPath+"/services/"+svc, nil)
			if s["serviceState"] == "STARTED" && s["healthSummary"] == "GOOD" {
				break
			}
			if time.Now().After(deadline) {
				roles := c.cm.must("GET", cmPath+"/services/"+svc+"/roles", nil)
				t.Fatalf("%s not STARTED and GOOD within %s: %v %v %v\nroles: %v", svc, timeout, s["serviceState"], s["healthSummary"], s["healthChecks"], roles)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

func (c *cmCluster) hdfsAndSpark() {
	t := c.t
	// Write a file into HDFS and read it back with Hadoop's own shell.
	conf := t.TempDir()
	if err := hadooprt.WriteSiteXML(filepath.Join(conf, "core-site.xml"), map[string]string{"fs.defaultFS": "hdfs://127.0.1.1:8020"}); err != nil {
		t.Fatal(err)
	}
	// The DataNodes listen on their hosts' own addresses; hdfs-site, not
	// core-site, since hdfs-default.xml loads after core-site.xml.
	if err := hadooprt.WriteSiteXML(filepath.Join(conf, "hdfs-site.xml"), map[string]string{"dfs.client.use.datanode.hostname": "true"}); err != nil {
		t.Fatal(err)
	}
	if err := hadooprt.WriteLog4j(conf); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(local, []byte("alpha\nbeta\ngamma\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	shell := func(args ...string) string {
		argv := c.hrt.JavaArgs(conf, 128, hadooprt.FsShell, args...)
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("hdfs dfs %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	shell("-put", local, "/words.txt")
	if out := shell("-cat", "/words.txt"); !strings.Contains(out, "alpha\nbeta\ngamma") {
		t.Fatalf("cat = %q", out)
	}

	// A CDE job run reads it on the standalone master: virtual cluster
	// "etl" sends its runs there, and its jobs API is the one a host named
	// etl.<domain> reaches, as in CDE.
	vc := c.cm.must("POST", "/herd/v1/virtual-clusters", map[string]string{"id": "etl", "sparkMaster": "spark://127.0.1.1:7077"})
	if vc["sparkMaster"] != "spark://127.0.1.1:7077" || vc["name"] != "etl" {
		t.Fatalf("virtual cluster %v", vc)
	}
	etl := newCDEClient(t, c.env, "admin", c.cm.pw)
	etl.host = "etl.cde-herd.localtest"
	if info := decode[cde.Info](t, etl.must(http.StatusOK, http.MethodGet, "/info", "")); info.AppID != "etl" {
		t.Fatalf("/info of etl's host: %+v", info)
	}
	etl.must(http.StatusCreated, http.MethodPost, "/resources", `{"name": "code"}`)
	if st, b := etl.upload("code", "count.py", []byte(`import sys
from pyspark.sql import SparkSession
s = SparkSession.builder.getOrCreate()
print("LINES=%d" % s.read.text("hdfs://127.0.1.1:8020/words.txt").count())
def mark(rows):
    print("EXECUTOR-MARK", file=sys.stderr, flush=True)
    return rows
s.sparkContext.parallelize([1], 1).mapPartitions(mark).count()
s.stop()
`)); st != http.StatusCreated {
		t.Fatalf("upload: %d %s", st, b)
	}
	etl.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "count", "type": "spark", "mounts": [{"resourceName": "code"}],
		"spark": {"file": "count.py", "driverMemory": "512m", "executorMemory": "512m",
			"conf": {"spark.cores.max": "1", "spark.hadoop.dfs.client.use.datanode.hostname": "true"}}}`)
	id := decode[cde.RunID](t, etl.must(http.StatusCreated, http.MethodPost, "/jobs/count/run", "")).ID
	run := etl.waitRun(id, 3*time.Minute, "ended", ended)
	if run.Status != "succeeded" || !strings.Contains(etl.log(id, "driver/stdout"), "LINES=3") {
		t.Fatalf("run on the standalone master: %+v\nstdout: %s\nstderr: %s", run, etl.log(id, "driver/stdout"), etl.log(id, "driver/stderr"))
	}
	// The master ran it: a standalone application id, among its completed
	// applications.
	if !regexp.MustCompile(`^app-\d{14}-\d{4}$`).MatchString(run.Spark.SparkAppID) {
		t.Fatalf("application id %q is not a standalone master's", run.Spark.SparkAppID)
	}
	var master struct {
		CompletedApps []struct {
			ID string `json:"id"`
		} `json:"completedapps"`
	}
	resp, err := http.Get("http://127.0.1.1:8080/json/")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&master)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("the master's status: %v", err)
	}
	found := false
	for _, a := range master.CompletedApps {
		found = found || a.ID == run.Spark.SparkAppID
	}
	if !found {
		t.Errorf("the master's completed applications %v lack %s", master.CompletedApps, run.Spark.SparkAppID)
	}
	// The executors' logs, read from the worker that ran them: Spark's
	// executor backend in stderr, and the Python worker's output there too.
	execLogs := etl.executorLogs(id)
	if !strings.Contains(execLogs, "CoarseGrainedExecutorBackend") || !strings.Contains(execLogs, "EXECUTOR-MARK") {
		t.Fatalf("executor logs of run %d:\n%s", id, execLogs)
	}
	// Kill: the run's process tree goes, the driver with it, and the master
	// then stops the executors on its workers.
	if st, b := etl.upload("code", "hold.py", []byte(`import time
from pyspark.sql import SparkSession
s = SparkSession.builder.getOrCreate()
s.sparkContext.parallelize(range(4), 2).count()
print("HOLDING", flush=True)
time.sleep(600)
`)); st != http.StatusCreated {
		t.Fatalf("upload: %d %s", st, b)
	}
	etl.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "hold", "type": "spark", "mounts": [{"resourceName": "code"}],
		"spark": {"file": "hold.py", "driverMemory": "512m", "executorMemory": "512m", "conf": {"spark.cores.max": "1"}}}`)
	id = decode[cde.RunID](t, etl.must(http.StatusCreated, http.MethodPost, "/jobs/hold/run", "")).ID
	deadline := time.Now().Add(3 * time.Minute)
	for !strings.Contains(etl.log(id, "driver/stdout"), "HOLDING") || etl.run(id).Spark.SparkAppID == "" {
		if r := etl.run(id); ended(r) || time.Now().After(deadline) {
			t.Fatalf("the run to kill did not get going: %+v\n%s", r, etl.log(id, "driver/stderr"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	app := etl.run(id).Spark.SparkAppID
	if len(processesUnder(t, app)) == 0 {
		t.Fatalf("no executor process of %s on the workers", app)
	}
	if l := etl.executorLogs(id); !strings.Contains(l, "CoarseGrainedExecutorBackend") {
		t.Fatalf("a live run's executor logs:\n%s", l)
	}
	etl.must(http.StatusOK, http.MethodPost, fmt.Sprintf("/job-runs/%d/kill", id), "")
	if r := etl.waitRun(id, time.Minute, "ended", ended); r.Status != "killed" {
		t.Fatalf("killed run: %+v", r)
	}
	eventually(t, 30*time.Second, "the executors of the killed run gone", func() bool { return len(processesUnder(t, app)) == 0 })

	// The default cluster does not see etl's jobs.
	dflt := newCDEClient(t, c.env, "admin", c.cm.pw)
	dflt.must(http.StatusNotFound, http.MethodGet, "/jobs/count", "")
	// Workload secrets need a local master: the executors would run on the
	// workers, outside the run's private mount.
	etl.must(http.StatusCreated, http.MethodPost, "/credentials", `{"name": "db", "type": "workload-credential", "workloadCred": {"password": "Zq-secret-41"}}`)
	etl.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "secret", "type": "spark", "mounts": [{"resourceName": "code"}], "workloadCredentials": ["db"], "spark": {"file": "count.py"}}`)
	id = decode[cde.RunID](t, etl.must(http.StatusCreated, http.MethodPost, "/jobs/secret/run", "")).ID
	if run := etl.waitRun(id, time.Minute, "ended", ended); run.Status != "failed" || !strings.Contains(run.StatusReason, "workload credentials need a local master") {
		t.Fatalf("a run with a secret on the standalone master: %+v", run)
	}
}

// restart restarts HDFS and waits for the command: every role runs in a
// new process, and the service is GOOD again.
func (c *cmCluster) restart() {
	t := c.t
	dn := c.agents[1].spec.DataDir
	before := rolePid(dn, "HDFS-1-DATANODE-2")
	if before == 0 {
		t.Fatal("no DataNode process on h2")
	}
	cmd := c.cm.must("POST", cmPath+"/services/HDFS-1/commands/restart", nil)
	if cmd["name"] != "Restart" || cmd["active"] != true {
		t.Errorf("restart command = %v", cmd)
	}
	c.cm.waitCommand(cmd, 3*time.Minute)
	if after := rolePid(dn, "HDFS-1-DATANODE-2"); after == 0 || after == before {
		t.Errorf("DataNode pid %d before the restart, %d after", before, after)
	}
	c.waitGood(t, time.Minute)
}

// configStaleness changes dfs_replication: the running roles are stale
// until a restart writes the new value into hdfs-site.xml; a reset brings
// the default back.
func (c *cmCluster) configStaleness() {
	t := c.t
	cm := c.cm
	site := filepath.Join(c.agents[1].spec.DataDir, "roles", "HDFS-1-DATANODE-2", "conf", "hdfs-site.xml")
	replication := func() string {
		b, err := os.ReadFile(site)
		if err != nil {
			t.Fatal(err)
		}
		var conf struct {
			Props []struct {
				Name  string `xml:"name"`
				Value string `xml:"value"`
			} `xml:"property"`
		}
		if err := xml.Unmarshal(b, &conf); err != nil {
			t.Fatal(err)
		}
		for _, p := range conf.Props {
			if p.Name == "dfs.replication" {
				return p.Value
			}
		}
		return ""
	}
	stale := func() (svc, role any) {
		s := cm.must("GET", cmPath+"/services/HDFS-1", nil)
		r := cm.must("GET", cmPath+"/services/HDFS-1/roles/HDFS-1-DATANODE-2", nil)
		return s["configStale"], r["configStalenessStatus"]
	}
	if got := replication(); got != "3" {
		t.Fatalf("dfs.replication before = %q, want the default 3", got)
	}
	cfg := cm.must("PUT", cmPath+"/services/HDFS-1/config", map[string]any{"items": []any{map[string]any{"name": "dfs_replication", "value": "2"}}})
	if !strings.Contains(fmt.Sprint(cfg), "dfs_replication value:2") {
		t.Errorf("update answered %v", cfg)
	}
	if s, r := stale(); s != true || r != "STALE" {
		t.Errorf("after the change: service configStale %v, role configStalenessStatus %v", s, r)
	}
	if got := replication(); got != "3" {
		t.Errorf("dfs.replication changed on disk before the restart: %q", got)
	}
	cm.waitCommand(cm.must("POST", cmPath+"/services/HDFS-1/commands/restart", nil), 3*time.Minute)
	if got := replication(); got != "2" {
		t.Errorf("dfs.replication after the restart = %q, want 2", got)
	}
	if s, r := stale(); s != false || r != "FRESH" {
		t.Errorf("after the restart: service configStale %v, role configStalenessStatus %v", s, r)
	}
	// Reset to the default with null.
	cm.must("PUT", cmPath+"/services/HDFS-1/config", map[string]any{"items": []any{map[string]any{"name": "dfs_replication", "value": nil}}})
	summary := cm.must("GET", cmPath+"/services/HDFS-1/config", nil)
	if strings.Contains(fmt.Sprint(summary), "dfs_replication") {
		t.Errorf("summary view after the reset still has dfs_replication: %v", summary)
	}
	full := cm.must("GET", cmPath+"/services/HDFS-1/config?view=full", nil)
	for _, it := range full["items"].([]any) {
		it := it.(map[string]any)
		if it["name"] == "dfs_replication" && (it["value"] != nil || it["default"] != "3") {
			t.Errorf("full view after the reset: %v", it)
		}
	}
	if s, _ := stale(); s != true {
		t.Errorf("after the reset the running roles (replication 2) should be stale")
	}
	c.waitGood(t, time.Minute)
}

// autoRestart sets process_auto_restart on the DataNodes' group and
// kills a DataNode with SIGKILL: its agent starts it again and the health
// recovers.
func (c *cmCluster) autoRestart() {
	t := c.t
	cm := c.cm
	cm.must("PUT", cmPath+"/services/HDFS-1/roleConfigGroups/HDFS-1-DATANODE-BASE/config",
		map[string]any{"items": []any{map[string]any{"name": "process_auto_restart", "value": "true"}}})
	// The agent learns the change through its long poll at once; a
	// heartbeat interval (2 s) covers a poll being re-established.
	time.Sleep(3 * time.Second)
	dd := c.agents[2].spec.DataDir
	pid := rolePid(dd, "HDFS-1-DATANODE-3")
	if pid == 0 {
		t.Fatal("no DataNode process on h3")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var next int
	eventually(t, time.Minute, "the DataNode restarted", func() bool {
		next = rolePid(dd, "HDFS-1-DATANODE-3")
		return next != 0 && next != pid
	})
	c.waitGood(t, 2*time.Minute)
	t.Logf("DataNode %d killed, %d running and HDFS GOOD %s later", pid, next, time.Since(killed).Round(time.Millisecond))
	r := cm.must("GET", cmPath+"/services/HDFS-1/roles/HDFS-1-DATANODE-3", nil)
	if r["roleState"] != "STARTED" || r["healthSummary"] != "GOOD" {
		t.Errorf("DataNode after the restart: %v %v", r["roleState"], r["healthSummary"])
	}
	cm.must("PUT", cmPath+"/services/HDFS-1/roleConfigGroups/HDFS-1-DATANODE-BASE/config",
		map[string]any{"items": []any{map[string]any{"name": "process_auto_restart", "value": nil}}})
}

// agentKilled kills h3's agent with SIGKILL: the host goes BAD within
// the TTL and its roles UNKNOWN; an agent started again re-attaches to the
// roles, which keep their processes.
func (c *cmCluster) agentKilled() {
	t := c.t
	cm := c.cm
	a := c.agents[2]
	dn := rolePid(a.spec.DataDir, "HDFS-1-DATANODE-3")
	if dn == 0 {
		t.Fatal("no DataNode process on h3")
	}
	a.stop(syscall.SIGKILL)
	killed := time.Now()
	eventually(t, 30*time.Second, "h3 BAD", func() bool {
		return cm.must("GET", "/api/v19/hosts/"+c.hosts[2], nil)["healthSummary"] == "BAD"
	})
	t.Logf("host BAD %s after its agent was killed (TTL 10s)", time.Since(killed).Round(time.Millisecond))
	r := cm.must("GET", cmPath+"/services/HDFS-1/roles/HDFS-1-DATANODE-3", nil)
	if r["roleState"] != "UNKNOWN" {
		t.Errorf("role on the silent host: roleState %v, health %v", r["roleState"], r["healthSummary"])
	}
	if rolePid(a.spec.DataDir, "HDFS-1-DATANODE-3") != dn {
		t.Fatal("the DataNode died with its agent")
	}
	c.agents[2] = startAgentProcess(t, a.spec)
	eventually(t, 30*time.Second, "h3 GOOD again", func() bool {
		return cm.must("GET", "/api/v19/hosts/"+c.hosts[2], nil)["healthSummary"] == "GOOD"
	})
	c.waitGood(t, time.Minute)
	if now := rolePid(a.spec.DataDir, "HDFS-1-DATANODE-3"); now != dn {
		t.Errorf("DataNode pid %d before, %d after the agent came back: not re-attached", dn, now)
	}
}

// walkthrough runs the cm_api client's walkthrough (Python 2.7, cm-api
// 19.2.2 from PyPI) against the cluster.
func (c *cmCluster) walkthrough() {
	t := c.t
	root := servertest.ModuleRoot()
	py2, err := os.ReadFile(filepath.Join(root, "build", "py2", ".python"))
	if err != nil {
		if os.Getenv("HERD_REQUIRE_COMPAT") != "" {
			t.Fatalf("cm_api is not installed (make setup): %v", err)
		}
		t.Skip("cm_api is not installed; run make setup")
	}
	u, _ := url.Parse(c.cm.base)
	cmd := exec.Command(strings.TrimSpace(string(py2)), filepath.Join(root, "internal", "server", "testdata", "cmapi", "walkthrough.py"),
		"--host", u.Hostname(), "--port", u.Port(), "--user", "admin", "--password", c.cm.pw,
		"--cluster", "Cluster 1", "--hdfs", "HDFS-1", "--spark", "SPARK-1", "--timeout", "180")
	cmd.Env = append(os.Environ(), "PYTHONPATH="+filepath.Join(root, "build", "py2"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CM_API WALKTHROUGH PASSED") {
		t.Fatalf("walkthrough: %v\n%s", err, out)
	}
	t.Logf("walkthrough: %d checks passed", strings.Count(string(out), "\nok "))
}
