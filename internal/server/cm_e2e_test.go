package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/agent"
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
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", basic("admin", c.pw))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
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
	id := int64(cmd["id"].(float64))
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		cur := c.must("GET", fmt.Sprintf("/api/v19/commands/%d", id), nil)
		if cur["active"] == false {
			if cur["success"] != true {
				c.t.Fatalf("command %d %s failed: %v (children %v)", id, cur["name"], cur["resultMessage"], cur["children"])
			}
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	c.t.Fatalf("command %d did not end in %s", id, timeout)
}

func TestClusterManagerHDFSAndSpark(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real HDFS and Spark daemons")
	}
	hrt, err := hadooprt.Discover(context.Background(), hadooprt.Config{})
	if err != nil {
		if os.Getenv("HERD_REQUIRE_COMPAT") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	env := servertest.Start(t)
	cm := cmClient{t: t, base: env.URL, pw: env.AdminPassword}

	tok := cm.must("POST", "/herd/v1/host-tokens", map[string]string{"description": "test"})
	exe, _ := os.Executable()
	ctx, cancel := context.WithCancel(context.Background())
	agentsDone := make(chan struct{})
	var agents []*agent.Agent
	for i := 1; i <= 3; i++ {
		a, err := agent.New(agent.Config{
			ServerURL: env.URL, Token: tok["token"].(string), Address: fmt.Sprintf("127.0.1.%d", i), Hostname: fmt.Sprintf("h%d", i),
			DataDir: filepath.Join(t.TempDir(), fmt.Sprintf("h%d", i)), Executable: exe,
			SparkVenv: filepath.Join(servertest.ModuleRoot(), ".venv"), HadoopHome: hrt.Home,
		})
		if err != nil {
			t.Fatal(err)
		}
		agents = append(agents, a)
	}
	go func() {
		defer close(agentsDone)
		done := make(chan struct{}, len(agents))
		for _, a := range agents {
			go func() { _ = a.Run(ctx); done <- struct{}{} }()
		}
		for range agents {
			<-done
		}
	}()
	var hostIDs []string
	deadline := time.Now().Add(30 * time.Second)
	for len(hostIDs) < 3 && time.Now().Before(deadline) {
		hostIDs = hostIDs[:0]
		for _, h := range cm.must("GET", "/api/v19/hosts", nil)["items"].([]any) {
			hostIDs = append(hostIDs, h.(map[string]any)["hostId"].(string))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(hostIDs) != 3 {
		t.Fatalf("hosts = %v", hostIDs)
	}
	byAddr := map[string]string{}
	for _, id := range hostIDs {
		h := cm.must("GET", "/api/v19/hosts/"+id, nil)
		byAddr[h["ipAddress"].(string)] = id
	}
	h1, h2, h3 := byAddr["127.0.1.1"], byAddr["127.0.1.2"], byAddr["127.0.1.3"]

	cm.must("POST", "/api/v19/clusters", map[string]any{"items": []any{map[string]any{"name": "Cluster 1", "fullVersion": "5.16.2"}}})
	cm.must("POST", "/api/v19/clusters/Cluster%201/hosts", map[string]any{"items": []any{map[string]string{"hostId": h1}, map[string]string{"hostId": h2}, map[string]string{"hostId": h3}}})
	cm.must("POST", "/api/v19/clusters/Cluster%201/services", map[string]any{"items": []any{
		map[string]string{"name": "HDFS-1", "type": "HDFS"}, map[string]string{"name": "SPARK-1", "type": "SPARK"}}})
	role := func(name, typ, host string) map[string]any {
		return map[string]any{"name": name, "type": typ, "hostRef": map[string]string{"hostId": host}}
	}
	cm.must("POST", "/api/v19/clusters/Cluster%201/services/HDFS-1/roles", map[string]any{"items": []any{
		role("HDFS-1-NAMENODE-1", "NAMENODE", h1), role("HDFS-1-DATANODE-1", "DATANODE", h1),
		role("HDFS-1-DATANODE-2", "DATANODE", h2), role("HDFS-1-DATANODE-3", "DATANODE", h3)}})
	cm.must("POST", "/api/v19/clusters/Cluster%201/services/SPARK-1/roles", map[string]any{"items": []any{
		role("SPARK-1-MASTER-1", "MASTER", h1), role("SPARK-1-WORKER-1", "WORKER", h2), role("SPARK-1-WORKER-2", "WORKER", h3)}})
	t.Cleanup(func() {
		if st, cmd := cm.call("POST", "/api/v19/clusters/Cluster%201/commands/stop", nil); st == http.StatusOK {
			cm.waitCommand(cmd, 2*time.Minute)
		}
		cancel()
		<-agentsDone
	})

	start := time.Now()
	cm.waitCommand(cm.must("POST", "/api/v19/clusters/Cluster%201/commands/start", nil), 4*time.Minute)
	t.Logf("cluster start command took %s", time.Since(start).Round(time.Millisecond))
	for _, svc := range []string{"HDFS-1", "SPARK-1"} {
		var s map[string]any
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			if s = cm.must("GET", "/api/v19/clusters/Cluster%201/services/"+svc, nil); s["healthSummary"] == "GOOD" {
				break
			}
		}
		if s["serviceState"] != "STARTED" || s["healthSummary"] != "GOOD" {
			t.Fatalf("%s: %v", svc, s)
		}
	}
	t.Logf("all GOOD %s after the start command", time.Since(start).Round(time.Millisecond))

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
		argv := hrt.JavaArgs(conf, 128, hadooprt.FsShell, args...)
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

	// A Spark application on the standalone master reads it.
	script := filepath.Join(t.TempDir(), "count.py")
	if err := os.WriteFile(script, []byte(`from pyspark.sql import SparkSession
s = SparkSession.builder.getOrCreate()
print("LINES=%d" % s.read.text("hdfs://127.0.1.1:8020/words.txt").count())
s.stop()
`), 0o644); err != nil {
		t.Fatal(err)
	}
	venv := filepath.Join(servertest.ModuleRoot(), ".venv")
	sparkHome := strings.TrimSpace(mustOutput(t, filepath.Join(venv, "bin", "python"), "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"))
	cmd := exec.Command(filepath.Join(sparkHome, "bin", "spark-submit"), "--master", "spark://127.0.1.1:7077",
		"--conf", "spark.hadoop.dfs.client.use.datanode.hostname=true", "--conf", "spark.executor.memory=512m", "--conf", "spark.driver.memory=512m", script)
	cmd.Env = append(os.Environ(), "PYSPARK_PYTHON="+filepath.Join(venv, "bin", "python"), "SPARK_LOCAL_IP=127.0.0.1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "LINES=3") {
		t.Fatalf("spark-submit: %v\n%s", err, out)
	}
}

func mustOutput(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return string(out)
}
