package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/hadooprt"
	"github.com/herdhq/herd/internal/hostprovider/local"
	"github.com/herdhq/herd/internal/server/servertest"
)

// ecoClient calls the Hadoop Eco API with an access key.
type ecoClient struct {
	t          *testing.T
	base       string
	id, secret string
}

func (c ecoClient) call(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	st, _, raw := call(c.t, method, c.base+"/v2/hadoop-eco/clusters"+path, jsonBody(c.t, body),
		headers{"Credential-ID": c.id, "Credential-Secret": c.secret, "Content-Type": "application/json"})
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		c.t.Fatalf("%s %s: %d, not a JSON object: %s", method, path, st, raw)
	}
	return st, out
}

func (c ecoClient) must(method, path string, body any) map[string]any {
	c.t.Helper()
	st, out := c.call(method, path, body)
	if st != http.StatusOK {
		c.t.Fatalf("%s %s: %d %v", method, path, st, out)
	}
	return out
}

// waitStatus polls a cluster until its status is want (and no change is
// in flight), failing on a terminal status that is not want.
func (c ecoClient) waitStatus(id, want string, timeout time.Duration) map[string]any {
	c.t.Helper()
	var cl map[string]any
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		cl = c.must("GET", "/"+id, nil)
		st := cl["status"].(string)
		if st == want && (cl["isScalable"] == true || strings.HasPrefix(st, "Terminated")) {
			return cl
		}
		if strings.HasPrefix(st, "Terminated") && st != want {
			c.t.Fatalf("cluster %s ended %s, want %s: %v", id, st, want, cl["reason"])
		}
	}
	c.t.Fatalf("cluster %s not %s within %s: %v", id, want, timeout, cl)
	return nil
}

// vmAgentCommand runs the VMs' host agents as this test binary.
func vmAgentCommand(hrt hadooprt.Runtime) func(local.AgentArgs) *exec.Cmd {
	return func(a local.AgentArgs) *exec.Cmd {
		b, _ := json.Marshal(agentSpec{Server: a.ServerURL, Token: a.Token, Address: a.Address, Hostname: a.Hostname, DataDir: a.DataDir,
			HadoopHome: hrt.Home, SparkVenv: filepath.Join(servertest.ModuleRoot(), ".venv")})
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envTestAgent+"="+string(b), "GORACE=atexit_sleep_ms=0")
		return cmd
	}
}

// ecoBody is a create request in the shape of the seed's examples.
func ecoBody(name string, workers, replication int) map[string]any {
	return map[string]any{
		"name": name, "clusterType": "hadoop", "clusterVersion": "hde-2.0.1", "isHa": false, "workerCnt": workers,
		"vpcId": "3ebb3020-d416-f1a4-534c-d3ad0fa1bec0", "subnetId": "5c1632bf-a7da-fdbf-a594-e6a7bedb328c",
		"securityGroupName": "security-group-test", "keypairName": "keypairname", "monitoring": true,
		"masterFlavorName": "m2a.xlarge", "workerFlavorName": "m2a.xlarge", "masterVolumeSize": 50, "workerVolumeSize": 100,
		"config": map[string]any{"hdfsReplication": replication, "hdfsBlockSize": 128,
			// The seed's own user script: prints "hello world!".
			"userScript": "IyEvYmluL2Jhc2gKCmZ1bmN0aW9uIHByaW50KCl7CiAgICBtc2c9JDEKICAgIGVjaG8gIiR7bXNnfSIKfQoKcHJpbnQgImhlbGxvIHdvcmxkISIK"},
	}
}

// TestHadoopEco provisions a real cluster through the Hadoop Eco API on
// the local host provider (each VM an agent process on 127.1.0.x), sees it
// in the Cloudera Manager API, scales it out and in (decommissioning a
// DataNode), and deletes it.
func TestHadoopEco(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real HDFS and Spark daemons")
	}
	hrt := requireHadoop(t)
	env, eco, vmDir := startEco(t, hrt)
	cm := cmClient{t: t, base: env.URL, pw: env.AdminPassword}

	body := ecoBody("test-cluster", 2, 2)
	// The seed's example 1 configText (core-site io.file.buffer.size),
	// here with Spark and user-env classifications too.
	configText := `{"configurations": [
		{"classification": "core-site", "properties": {"io.file.buffer.size": "65536"}},
		{"classification": "spark-defaults", "properties": {"spark.network.timeout": "800s"}},
		{"classification": "user-env:ubuntu", "properties": {"env": "export CUSTOM_HOME=/etc/custom"}}]}`
	body["config"].(map[string]any)["configText"] = base64.StdEncoding.EncodeToString([]byte(configText))
	// The seed's example 1 Hive task, run through Spark SQL.
	body["userTask"] = map[string]any{"type": "hive", "terminationPolicy": "never",
		"hiveQuery": "create table if not exists t1 (col1 string); insert into table t1 values ('a'), ('b'), ('c');",
		"execOpts":  "--hiveconf hive.tez.container.size=1024 --hiveconf", "logBucketName": "user-bucket"}
	start := time.Now()
	created := eco.must("POST", "", body)
	if created["status"] != "Initializing" || created["name"] != "test-cluster" || created["id"] == "" {
		t.Fatalf("create answered %v", created)
	}
	cid := created["id"].(string)
	if st, out := eco.call("POST", "", ecoBody("test-cluster", 2, 2)); st != http.StatusConflict {
		t.Errorf("same name again: %d %v", st, out)
	}
	cl := eco.waitStatus(cid, "Running", 6*time.Minute)
	t.Logf("create to Running, with the Hive task: %s", time.Since(start).Round(time.Millisecond))
	task := cl["userTask"].(map[string]any)
	logURL, _ := task["logUrl"].(string)
	taskLog, _ := os.ReadFile(strings.TrimPrefix(logURL, "file://"))
	if task["status"] != "Succeeded" || !strings.Contains(logURL, "/user-bucket/HadoopEco/test-cluster/") {
		t.Fatalf("Hive task: %v\n%s", task, taskLog)
	}
	if cl["masterCnt"] != 1.0 || cl["workerCnt"] != 2.0 || cl["nodeCnt"] != 3.0 || cl["runningAt"] == nil {
		t.Errorf("running cluster: %v", cl)
	}
	vms := eco.must("GET", "/"+cid+"/vms?sort=name,asc", nil)
	var names []string
	for _, v := range vms["content"].([]any) {
		names = append(names, v.(map[string]any)["name"].(string))
	}
	if strings.Join(names, " ") != "HadoopMST-test-cluster-1 HadoopWRK-test-cluster-1 HadoopWRK-test-cluster-2" {
		t.Errorf("VMs = %v", names)
	}
	// The user script ran on every VM; its output is kept per VM.
	logs, _ := filepath.Glob(filepath.Join(vmDir, "*", "user-script.log"))
	for _, l := range logs {
		if b, _ := os.ReadFile(l); !strings.Contains(string(b), "hello world!") {
			t.Errorf("%s = %q", l, b)
		}
	}
	if len(logs) != 3 {
		t.Errorf("user script logs: %v", logs)
	}
	// The same cluster in the Cloudera Manager API.
	if s := cm.must("GET", "/api/v19/clusters/test-cluster/services/HDFS-1", nil); s["healthSummary"] != "GOOD" {
		t.Errorf("HDFS in the CM API: %v", s)
	}
	cfg := cm.must("GET", "/api/v19/clusters/test-cluster/services/HDFS-1/config", nil)
	if !strings.Contains(fmt.Sprint(cfg), "dfs_replication value:2") || !strings.Contains(fmt.Sprint(cfg), "dfs_block_size value:134217728") {
		t.Errorf("HDFS config: %v", cfg)
	}

	// The flavor sizes the roles: m2a.xlarge has 4 cores and 16 GiB.
	wg := fmt.Sprint(cm.must("GET", "/api/v19/clusters/test-cluster/services/SPARK-1/roleConfigGroups/SPARK-1-WORKER-BASE/config", nil))
	if !strings.Contains(wg, "worker_cores value:4") || !strings.Contains(wg, "worker_memory value:8589934592") {
		t.Errorf("Spark worker group config: %v", wg)
	}
	// The configuration is in the CM API and in the files on the hosts.
	if v := fmt.Sprint(cm.must("GET", "/api/v19/clusters/test-cluster/services/HDFS-1/config", nil)); !strings.Contains(v, "core_site_safety_valve") {
		t.Errorf("HDFS config lacks the core-site snippet: %v", v)
	}
	sites, _ := filepath.Glob(filepath.Join(vmDir, "*", "agent", "roles", "test-cluster-DATANODE-1", "conf", "core-site.xml"))
	if len(sites) != 1 {
		t.Fatalf("core-site.xml of DataNode 1: %v", sites)
	}
	if b, _ := os.ReadFile(sites[0]); !strings.Contains(string(b), "<name>io.file.buffer.size</name><value>65536</value>") {
		t.Errorf("core-site.xml:\n%s", b)
	}
	sparkConf, _ := filepath.Glob(filepath.Join(vmDir, "*", "agent", "roles", "test-cluster-SPARK-MASTER", "conf", "spark-defaults.conf"))
	if len(sparkConf) != 1 {
		t.Fatalf("spark-defaults.conf of the master: %v", sparkConf)
	}
	if b, _ := os.ReadFile(sparkConf[0]); !strings.Contains(string(b), "spark.network.timeout=800s") {
		t.Errorf("spark-defaults.conf:\n%s", b)
	}
	envs, _ := filepath.Glob(filepath.Join(vmDir, "*", "users", "ubuntu", ".hadoop-eco-env"))
	if len(envs) != 3 {
		t.Errorf("user-env files: %v", envs)
	} else if b, _ := os.ReadFile(envs[0]); !strings.Contains(string(b), "export CUSTOM_HOME=/etc/custom") {
		t.Errorf("user env: %q", b)
	}
	if got := eco.must("GET", "/"+cid, nil)["config"].(map[string]any)["configText"]; got != body["config"].(map[string]any)["configText"] {
		t.Errorf("configText in the GET answer: %v", got)
	}

	// Scale-in below the replication is refused and changes nothing.
	if st, out := eco.call("POST", "/"+cid+"/scale-in", map[string]int{"scaleCnt": 1}); st != http.StatusBadRequest ||
		!strings.Contains(fmt.Sprint(out["message"]), "hdfsReplication") {
		t.Errorf("scale-in to 1 worker: %d %v", st, out)
	}
	// Scale out by one: a new worker with a DataNode and a Spark worker.
	start = time.Now()
	out := eco.must("POST", "/"+cid+"/scale-out", map[string]int{"scaleCnt": 1})
	if out["status"] != "Running" {
		t.Errorf("scale-out answered %v", out)
	}
	if cl := eco.must("GET", "/"+cid, nil); cl["isScalable"] != false {
		t.Errorf("isScalable during the scale-out: %v", cl["isScalable"])
	}
	cl = eco.waitStatus(cid, "Running", 3*time.Minute)
	t.Logf("scale-out of one worker to GOOD: %s", time.Since(start).Round(time.Millisecond))
	if cl["workerCnt"] != 3.0 || cl["nodeCnt"] != 4.0 {
		t.Errorf("after the scale-out: %v", cl)
	}
	if s := cm.must("GET", "/api/v19/clusters/test-cluster/services/HDFS-1", nil); s["healthSummary"] != "GOOD" {
		t.Errorf("HDFS after the scale-out: %v", s)
	}
	// A file written now, two replicas over three DataNodes, must keep
	// both replicas through the scale-in.
	master := ""
	for _, v := range eco.must("GET", "/"+cid+"/vms?sort=isMaster,desc", nil)["content"].([]any) {
		if v := v.(map[string]any); v["isMaster"] == true {
			master = v["ip"].(string)
		}
	}
	hdfs := hdfsShell(t, hrt, master)
	local := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(local, bytes.Repeat([]byte("herd-eco-"), 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	hdfs(hadooprt.FsShell, "-D", "dfs.blocksize=1048576", "-put", local, "/data.bin")
	// The Hive task's table t1 has its three rows in HDFS.
	if rows := hdfs(hadooprt.FsShell, "-cat", "/user/hive/warehouse/t1/*"); strings.Join(strings.Fields(rows), ",") != "a,b,c" {
		t.Errorf("rows of t1: %q", rows)
	}
	// Scale in by one, through the DELETE the seed's example uses: the
	// DataNode is decommissioned first, its blocks re-replicated.
	eco.must("DELETE", "/"+cid+"/scale-in", map[string]int{"scaleCnt": 1})
	cl = eco.waitStatus(cid, "Running", 3*time.Minute)
	if out := hdfs("org.apache.hadoop.hdfs.tools.DFSck", "/data.bin"); !strings.Contains(out, "is HEALTHY") || !strings.Contains(out, "Under-replicated blocks:\t0") && !strings.Contains(out, "Under-replicated blocks:       0") {
		t.Errorf("fsck after the scale-in:\n%s", out)
	}
	if cl["workerCnt"] != 2.0 || cl["reason"] != nil && cl["reason"] != "" {
		t.Errorf("after the scale-in: %v", cl)
	}
	roles := cm.must("GET", "/api/v19/clusters/test-cluster/services/HDFS-1/roles", nil)
	if n := len(roles["items"].([]any)); n != 3 {
		t.Errorf("HDFS roles after the scale-in: %d", n)
	}

	// Delete: Terminating, then Terminated(User) with its VMs gone.
	del := eco.must("DELETE", "/"+cid, nil)
	if del["status"] != "Terminating" {
		t.Errorf("delete answered %v", del)
	}
	cl = eco.waitStatus(cid, "Terminated(User)", 2*time.Minute)
	if cl["masterCnt"] != 0.0 || cl["workerCnt"] != 0.0 || cl["nodeCnt"] != 0.0 || cl["isScalable"] != false {
		t.Errorf("terminated cluster: %v", cl)
	}
	if ents, _ := os.ReadDir(vmDir); len(ents) > 1 { // the allocation lock file stays
		t.Errorf("VM directories left: %v", ents)
	}
	if st, _ := cm.call("GET", "/api/v19/clusters/test-cluster", nil); st != http.StatusNotFound {
		t.Errorf("the CM cluster after the delete: %d", st)
	}
	list := eco.must("GET", "?includeTerminated=false", nil)
	if n := len(list["content"].([]any)); n != 0 {
		t.Errorf("live clusters after the delete: %d", n)
	}
	list = eco.must("GET", "", nil)
	if n := len(list["content"].([]any)); n != 1 {
		t.Errorf("clusters with terminated ones: %d", n)
	}
}

// A create refused for what the local provider cannot do creates nothing.
func TestHadoopEcoRefusals(t *testing.T) {
	env := servertest.Start(t)
	key := createAccessKey(t, env, "admin", env.AdminPassword, `{}`)
	eco := ecoClient{t: t, base: env.URL, id: key.ID, secret: key.Private}
	withField := func(k string, v any) map[string]any {
		b := ecoBody("refused", 3, 3)
		b[k] = v
		return b
	}
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/yarn.json" {
			fmt.Fprint(w, `{"configurations":[{"classification":"yarn-site","properties":{"a":"b"}}]}`)
			return
		}
		http.NotFound(w, r)
	}))
	defer files.Close()
	withConfig := func(k, v string) map[string]any {
		b := ecoBody("refused", 3, 3)
		c := b["config"].(map[string]any)
		delete(c, "userScript")
		c[k] = v
		return b
	}
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"HA", withField("isHa", true), "isHa"},
		{"data catalog", withField("dataCatalog", map[string]string{"catalogId": "e1ebae48-daba-a4c5-56da-fbb2b684ae07"}), "dataCatalog"},
		{"hive metastore", withField("hiveDbInfo", map[string]string{"objectId": "o", "dbName": "meta_db", "userId": "u",
			"userPw": base64.StdEncoding.EncodeToString([]byte("pw"))}), "hiveDbInfo"},
		{"unknown flavor", withField("workerFlavorName", "x9.huge"), "workerFlavorName"},
		{"too few workers", withField("workerCnt", 2), "hdfsReplication"},
		{"unknown classification in a file", withConfig("configFileUrl", files.URL+"/yarn.json"), "yarn-site"},
		{"config file missing", withConfig("configFileUrl", files.URL+"/none.json"), "404"},
		{"script file missing", withConfig("userScriptFileUrl", files.URL+"/none.sh"), "config.userScriptFileUrl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eco.t = t
			st, out := eco.call("POST", "", tc.body)
			if st != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["message"]), tc.want) {
				t.Errorf("%d %v", st, out)
			}
		})
	}
	// The seed's three examples as written ask for what the local provider
	// cannot honour: a data catalog, NameNode HA, a MySQL metastore.
	for i, want := range []string{"dataCatalog", "isHa", "hiveDbInfo"} {
		b, err := os.ReadFile(filepath.Join(servertest.ModuleRoot(), "internal", "eco", "testdata", fmt.Sprintf("create-example-%d.json", i+1)))
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatal(err)
		}
		eco.t = t
		if st, out := eco.call("POST", "", body); st != http.StatusBadRequest || !strings.Contains(fmt.Sprint(out["message"]), want) {
			t.Errorf("seed example %d: %d %v", i+1, st, out)
		}
	}
	eco.t = t
	if n := len(eco.must("GET", "", nil)["content"].([]any)); n != 0 {
		t.Errorf("clusters after refusals: %d", n)
	}
	req, _ := http.NewRequest("GET", env.URL+"/v2/hadoop-eco/clusters", nil)
	req.Header.Set("Credential-ID", key.ID)
	req.Header.Set("Credential-Secret", "wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", resp.StatusCode)
	}
	if st, _ := eco.call("GET", "/no-such-cluster", nil); st != http.StatusNotFound {
		t.Errorf("missing cluster: %d", st)
	}
}

// hdfsShell returns a function that runs a Hadoop client class against
// the NameNode at addr and returns its output, failing the test on error.
func hdfsShell(t *testing.T, hrt hadooprt.Runtime, addr string) func(class string, args ...string) string {
	t.Helper()
	conf := t.TempDir()
	if err := hadooprt.WriteSiteXML(filepath.Join(conf, "core-site.xml"), map[string]string{"fs.defaultFS": "hdfs://" + addr + ":8020"}); err != nil {
		t.Fatal(err)
	}
	if err := hadooprt.WriteSiteXML(filepath.Join(conf, "hdfs-site.xml"), map[string]string{"dfs.client.use.datanode.hostname": "true", "dfs.replication": "2"}); err != nil {
		t.Fatal(err)
	}
	if err := hadooprt.WriteLog4j(conf); err != nil {
		t.Fatal(err)
	}
	return func(class string, args ...string) string {
		t.Helper()
		argv := hrt.JavaArgs(conf, 128, class, args...)
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", class, args, err, out)
		}
		return string(out)
	}
}

// A server restart while a cluster is provisioning ends the cluster
// Terminated(Error) with the reason, and removes its VMs and processes.
func TestHadoopEcoRestartDuringProvisioning(t *testing.T) {
	if testing.Short() {
		t.Skip("starts host agent processes")
	}
	hrt := requireHadoop(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	env, eco, vmDir := startEco(t, hrt, servertest.WithDataDir(dataDir))
	cid := eco.must("POST", "", ecoBody("restarted", 1, 1))["id"].(string)
	// Stop the server once the VMs exist and the cluster is on its way.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		vms := eco.must("GET", "/"+cid+"/vms", nil)["content"].([]any)
		if len(vms) == 2 && vms[0].(map[string]any)["ip"] != "" && vms[1].(map[string]any)["ip"] != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the VMs were not made within a minute")
		}
	}
	env.Stop()
	env = servertest.StartWithClock(t, servertest.WallClock(), servertest.WithDataDir(dataDir), servertest.WithVMAgentCommand(vmAgentCommand(hrt)))
	eco.base = env.URL
	cl := eco.waitStatus(cid, "Terminated(Error)", 2*time.Minute)
	if !strings.Contains(fmt.Sprint(cl["reason"]), "server restarted") || cl["nodeCnt"] != 0.0 {
		t.Errorf("after the restart: %v", cl)
	}
	cm := cmClient{t: t, base: env.URL, pw: env.AdminPassword}
	if st, _ := cm.call("GET", "/api/v19/clusters/restarted", nil); st != http.StatusNotFound {
		t.Errorf("the CM cluster is still there: %d", st)
	}
	if hosts := cm.must("GET", "/api/v19/hosts", nil)["items"].([]any); len(hosts) != 0 {
		t.Errorf("hosts left: %v", hosts)
	}
	if ents, _ := os.ReadDir(vmDir); len(ents) > 1 {
		t.Errorf("VM directories left: %v", ents)
	}
}

// A Spark task (the example SparkPi jar) with terminationPolicy onSuccess
// ends the cluster Terminated(User) once it succeeds.
func TestHadoopEcoSparkTaskOnSuccess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real HDFS and Spark daemons")
	}
	hrt := requireHadoop(t)
	jar := filepath.Join(servertest.ModuleRoot(), "build", "spark-examples.jar")
	if _, err := os.Stat(jar); err != nil {
		t.Fatalf("the example jar (make setup): %v", err)
	}
	_, eco, _ := startEco(t, hrt)
	body := ecoBody("spark-job-cluster", 1, 1)
	delete(body["config"].(map[string]any), "userScript")
	// The seed's example 2 task, with the example jar of this project.
	body["userTask"] = map[string]any{"type": "spark", "terminationPolicy": "onSuccess", "fileUrl": "file://" + jar,
		"deployMode": "client", "execOpts": "--class org.herd.examples.SparkPi --master yarn", "execParams": "4", "logBucketName": "user-bucket"}
	cid := eco.must("POST", "", body)["id"].(string)
	cl := eco.waitStatus(cid, "Terminated(User)", 6*time.Minute)
	task := cl["userTask"].(map[string]any)
	logURL, _ := task["logUrl"].(string)
	taskLog, _ := os.ReadFile(strings.TrimPrefix(logURL, "file://"))
	if task["status"] != "Succeeded" || !strings.Contains(string(taskLog), "Pi is roughly") {
		t.Errorf("Spark task: %v\n%s", task, taskLog)
	}
	if cl["nodeCnt"] != 0.0 {
		t.Errorf("terminated cluster: %v", cl)
	}
}

// A user script that fails fails the cluster: Terminated(Error) with the
// script's output in the reason, its VMs removed.
func TestHadoopEcoFailingUserScript(t *testing.T) {
	if testing.Short() {
		t.Skip("starts host agent processes")
	}
	hrt := requireHadoop(t)
	_, eco, vmDir := startEco(t, hrt)
	body := ecoBody("broken-script", 1, 1)
	body["config"].(map[string]any)["userScript"] = base64.StdEncoding.EncodeToString([]byte("#!/bin/bash\necho preparing-the-vm\necho disk-not-found >&2\nexit 7\n"))
	cid := eco.must("POST", "", body)["id"].(string)
	cl := eco.waitStatus(cid, "Terminated(Error)", 2*time.Minute)
	reason := fmt.Sprint(cl["reason"])
	if !strings.Contains(reason, "user script") || !strings.Contains(reason, "disk-not-found") || !strings.Contains(reason, "7") {
		t.Errorf("reason = %q", reason)
	}
	if ents, _ := os.ReadDir(vmDir); len(ents) > 1 {
		t.Errorf("VM directories left: %v", ents)
	}
}

// requireHadoop returns the Hadoop runtime make setup installs, or skips
// the test (fails it when HERD_REQUIRE_COMPAT is set).
func requireHadoop(t *testing.T) hadooprt.Runtime {
	t.Helper()
	hrt, err := hadooprt.Discover(context.Background(), hadooprt.Config{})
	if err != nil {
		if os.Getenv("HERD_REQUIRE_COMPAT") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return hrt
}

// startEco starts a server whose VM agents are this test binary, with an
// access key for the Hadoop Eco API, and checks at the end that no
// process is left under its VM directory (which it returns).
func startEco(t *testing.T, hrt hadooprt.Runtime, opts ...servertest.Option) (*servertest.Env, ecoClient, string) {
	t.Helper()
	env := servertest.StartWithClock(t, servertest.WallClock(), append([]servertest.Option{servertest.WithVMAgentCommand(vmAgentCommand(hrt))}, opts...)...)
	key := createAccessKey(t, env, "admin", env.AdminPassword, `{}`)
	vmDir := filepath.Join(env.DataDir, "vms")
	t.Cleanup(func() {
		if left := killLeftovers(vmDir); left != "" {
			t.Errorf("processes left under %s: %s", vmDir, left)
		}
	})
	return env, ecoClient{t: t, base: env.URL, id: key.ID, secret: key.Private}, vmDir
}
