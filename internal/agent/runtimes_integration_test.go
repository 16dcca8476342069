//go:build integration

package agent

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/hadooprt"
)

// TestRealRuntimes runs a NameNode (formatted by its init step) and a Spark
// master through the agent with the runtimes make setup installs, waits
// for their probes, and stops them. It needs build/hadoop and .venv:
//
//	go test -tags integration -run TestRealRuntimes ./internal/agent/
func TestRealRuntimes(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fs := newFakeServer(t)
	dataDir := t.TempDir()
	cfg := testConfig(t, fs, dataDir)
	cfg.HadoopHome = filepath.Join(root, "build", "hadoop")
	cfg.SparkVenv = filepath.Join(root, ".venv")
	a := newTestAgent(t, cfg)
	a.discover = a.discoverRuntimes
	a.t.stopTimeout = 30 * time.Second
	runAgent(t, a)
	eventually(t, time.Minute, "a heartbeat", func() bool { _, n := fs.lastHeartbeat(); return n > 0 })
	hb, _ := fs.lastHeartbeat()
	if hb.Facts.Runtimes[agentapi.RuntimeHadoop] == "" || hb.Facts.Runtimes[agentapi.RuntimeSpark] == "" {
		t.Skipf("runtimes missing (run make setup): %v", hb.Facts.Problems)
	}

	ports := freePorts(t, 5)
	nameDir := filepath.Join(dataDir, "dfs", "nn")
	nn := agentapi.RoleSpec{
		Name: "nn", Type: "NAMENODE", Service: "hdfs", Run: true, StartSeq: 1, ConfigHash: "h1",
		StopTimeout: agentapi.Duration(30 * time.Second),
		Files: []agentapi.File{
			{Path: "core-site.xml", Content: siteXML(map[string]string{"fs.defaultFS": "hdfs://127.0.0.1:" + ports[0]})},
			{Path: "hdfs-site.xml", Content: siteXML(map[string]string{
				"dfs.namenode.name.dir":     nameDir,
				"dfs.namenode.rpc-address":  "127.0.0.1:" + ports[0],
				"dfs.namenode.http-address": "127.0.0.1:" + ports[1],
			})},
			{Path: "log4j.properties", Content: hadooprt.Log4jProperties},
		},
		Launch: agentapi.Launch{Runtime: agentapi.RuntimeHadoop, MainClass: hadooprt.NameNode, HeapMB: 256, Dirs: []string{"dfs/nn"}},
		Init: &agentapi.Init{Creates: filepath.Join(nameDir, "current", "VERSION"), MainClass: hadooprt.NameNode,
			Args: []string{"-format", "-nonInteractive", "-clusterid", "CID-test"}},
		Probes: []agentapi.Probe{{Name: "fsnamesystem",
			URL:    "http://127.0.0.1:" + ports[1] + "/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState",
			Fields: map[string]string{"fsState": "beans.0.FSState", "live": "beans.0.NumLiveDataNodes"}}},
	}
	master := agentapi.RoleSpec{
		Name: "master", Type: "MASTER", Service: "spark", Run: true, StartSeq: 1, ConfigHash: "h1",
		StopTimeout: agentapi.Duration(30 * time.Second),
		Launch: agentapi.Launch{Runtime: agentapi.RuntimeSpark, MainClass: "org.apache.spark.deploy.master.Master",
			Args:   []string{"--host", "127.0.0.1", "--port", ports[2], "--webui-port", ports[3]},
			HeapMB: 256, Env: map[string]string{"SPARK_LOCAL_IP": "127.0.0.1"}},
		Probes: []agentapi.Probe{{Name: "master", URL: "http://127.0.0.1:" + ports[3] + "/json/",
			Fields: map[string]string{"status": "status", "aliveWorkers": "aliveworkers"}}},
	}
	fs.setDesired(nn, master)
	wait := func(role, probe, field string, want any) agentapi.RoleStatus {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			hb, _ := fs.lastHeartbeat()
			for _, rs := range hb.Roles {
				if rs.Name == role && rs.Probes[probe].OK && rs.Probes[probe].Fields[field] == want {
					return rs
				}
				if rs.Name == role && (rs.State == agentapi.StateFailed || rs.State == agentapi.StateExited) {
					t.Fatalf("%s: %+v\nstderr.log:\n%s", role, rs, readFile(filepath.Join(dataDir, "roles", role, "logs", stderrLog)))
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no OK probe; stderr.log:\n%s", role, readFile(filepath.Join(dataDir, "roles", role, "logs", stderrLog)))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	st := wait("nn", "fsnamesystem", "fsState", "Operational")
	t.Logf("NameNode: pid %d, probe %v", st.Pid, st.Probes["fsnamesystem"].Fields)
	if st.Probes["fsnamesystem"].Fields["fsState"] != "Operational" {
		t.Errorf("NameNode probe: %+v", st.Probes)
	}
	st = wait("master", "master", "status", "ALIVE")
	t.Logf("Spark master: pid %d, probe %v", st.Pid, st.Probes["master"].Fields)
	if st.Probes["master"].Fields["status"] != "ALIVE" {
		t.Errorf("master probe: %+v", st.Probes)
	}

	nn.Run, master.Run = false, false
	fs.setDesired(nn, master)
	fs.waitState(t, "nn", agentapi.StateStopped)
	fs.waitState(t, "master", agentapi.StateStopped)
}

func siteXML(props map[string]string) string {
	s := "<?xml version=\"1.0\"?>\n<configuration>\n"
	for k, v := range props {
		s += fmt.Sprintf("  <property><name>%s</name><value>%s</value></property>\n", k, v)
	}
	return s + "</configuration>\n"
}

func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}
