package servicetype

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func mustLoad(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLoadCatalog(t *testing.T) {
	c := mustLoad(t)
	if got := strings.Join(c.Names(), ","); got != "HDFS,SPARK" {
		t.Fatalf("types = %s", got)
	}
	hdfs, _ := c.Type("HDFS")
	if got := strings.Join(hdfs.RoleTypeNames(), ","); got != "NAMENODE,DATANODE,SECONDARYNAMENODE" {
		t.Fatalf("HDFS role types in start order = %s", got)
	}
	p, ok := hdfs.Param("dfs_replication")
	if !ok || p.RelatedName != "dfs.replication" || p.Default != "3" || p.Description == "" {
		t.Fatalf("dfs_replication = %+v", p)
	}
	dn, _ := hdfs.RoleType("DATANODE")
	if p, ok := dn.Param(AutoRestartParam); !ok || p.Default != "false" || p.Description == "" {
		t.Fatalf("every role type has %s: %+v", AutoRestartParam, p)
	}
}

func TestNormalize(t *testing.T) {
	c := mustLoad(t)
	hdfs, _ := c.Type("HDFS")
	nn, _ := hdfs.RoleType("NAMENODE")
	param := func(name string) *Param {
		if p, ok := hdfs.Param(name); ok {
			return p
		}
		p, ok := nn.Param(name)
		if !ok {
			t.Fatalf("no parameter %s", name)
		}
		return p
	}
	for _, tc := range []struct {
		param, in, want, err string
	}{
		{"dfs_replication", "2", "2", ""},
		{"dfs_replication", " 02 ", "2", ""},
		{"dfs_replication", "0", "", "below the minimum 1"},
		{"dfs_replication", "513", "", "above the maximum 512"},
		{"dfs_replication", "two", "", "not an integer"},
		{"dfs_permissions", "True", "true", ""},
		{"dfs_permissions", "yes", "", "not a boolean"},
		{"namenode_port", "70000", "", "above the maximum 65535"},
		{"namenode_port", "0", "", "below the minimum 1"},
		{"namenode_java_heapsize", "1024", "", "below the minimum"},
		{"namenode_java_heapsize", "1g", "", "not a size in bytes"},
		{"dfs_name_dir_list", "/a, b/c", "/a,b/c", ""},
		{"dfs_name_dir_list", "/a/../etc", "", "'..'"},
		{"dfs_name_dir_list", " , ", "", "empty"},
		{AutoRestartParam, "TRUE", "true", ""},
	} {
		got, err := param(tc.param).Normalize(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s=%q: err = %v, want %q", tc.param, tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s=%q: got %q, %v; want %q", tc.param, tc.in, got, err, tc.want)
		}
	}
}

func hdfsTopology() RenderInput {
	h1 := Host{ID: "h1", Hostname: "h1", Address: "127.0.1.1", DataDir: "/data/h1"}
	h2 := Host{ID: "h2", Hostname: "h2", Address: "127.0.1.2", DataDir: "/data/h2"}
	return RenderInput{
		Cluster: "Cluster 1", ClusterID: "cid-1", Service: "HDFS-1",
		ServiceConfig: map[string]string{"dfs_replication": "2"},
		Peers: []RoleInstance{
			{Name: "HDFS-1-NAMENODE-1", Type: "NAMENODE", Host: h1, Config: map[string]string{"namenode_port": "8021"}},
			{Name: "HDFS-1-DATANODE-1", Type: "DATANODE", Host: h2, Config: map[string]string{AutoRestartParam: "true"}},
		},
	}
}

func TestRenderHDFS(t *testing.T) {
	c := mustLoad(t)
	hdfs, _ := c.Type("HDFS")
	in := hdfsTopology()
	in.Role = in.Peers[0]
	nn, err := hdfs.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range nn.Files {
		files[f.Path] = f.Content
	}
	for _, want := range []string{
		"<name>dfs.replication</name><value>2</value>",
		"<name>dfs.namenode.name.dir</name><value>file:///data/h1/dfs/nn</value>",
		"<name>dfs.namenode.rpc-address</name><value>127.0.1.1:8021</value>",
	} {
		if !strings.Contains(files["hdfs-site.xml"], want) {
			t.Errorf("NameNode hdfs-site.xml lacks %s:\n%s", want, files["hdfs-site.xml"])
		}
	}
	if strings.Contains(files["hdfs-site.xml"], "dfs.datanode.data.dir") {
		t.Errorf("NameNode hdfs-site.xml has the DataNode's directories")
	}
	if nn.Init == nil || nn.Init.Creates != "/data/h1/dfs/nn/current/VERSION" || !strings.Contains(strings.Join(nn.Init.Args, " "), "-clusterid cid-1") {
		t.Errorf("init = %+v", nn.Init)
	}
	if nn.Launch.HeapMB != 256 || nn.Launch.Runtime != "hadoop" || nn.AutoRestart || len(nn.Launch.Dirs) != 1 || nn.Launch.Dirs[0] != "/data/h1/dfs/nn" {
		t.Errorf("launch = %+v, autoRestart %v", nn.Launch, nn.AutoRestart)
	}
	if len(nn.Probes) != 1 || nn.Probes[0].URL != "http://127.0.1.1:9870/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState" {
		t.Errorf("probes = %+v", nn.Probes)
	}

	in.Role = in.Peers[1]
	dn, err := hdfs.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range dn.Files {
		if f.Path == "core-site.xml" && !strings.Contains(f.Content, "<value>hdfs://127.0.1.1:8021</value>") {
			t.Errorf("DataNode core-site.xml does not point at the NameNode:\n%s", f.Content)
		}
	}
	if !dn.AutoRestart {
		t.Error("DataNode with process_auto_restart=true has AutoRestart false")
	}

	// A changed value changes the hash; the same input keeps it.
	again, _ := hdfs.Render(in)
	in.ServiceConfig = map[string]string{"dfs_replication": "3"}
	changed, _ := hdfs.Render(in)
	if again.ConfigHash != dn.ConfigHash || changed.ConfigHash == dn.ConfigHash {
		t.Errorf("hashes: %s %s %s", dn.ConfigHash, again.ConfigHash, changed.ConfigHash)
	}
}

func TestRenderWithoutRequiredPeer(t *testing.T) {
	c := mustLoad(t)
	hdfs, _ := c.Type("HDFS")
	in := hdfsTopology()
	in.Peers = in.Peers[1:]
	in.Role = in.Peers[0]
	if _, err := hdfs.Render(in); err == nil || !strings.Contains(err.Error(), "HDFS-1 has no NAMENODE role") {
		t.Fatalf("err = %v", err)
	}
}

func TestRenderSpark(t *testing.T) {
	c := mustLoad(t)
	spark, _ := c.Type("SPARK")
	h := Host{ID: "h1", Address: "127.0.1.1", DataDir: "/d"}
	in := RenderInput{Service: "SPARK-1", Peers: []RoleInstance{
		{Name: "SPARK-1-MASTER-1", Type: "MASTER", Host: h},
		{Name: "SPARK-1-WORKER-1", Type: "WORKER", Host: h},
	}}
	in.Role = in.Peers[1]
	w, err := spark.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(w.Launch.Args, " ")
	if !strings.Contains(args, "--memory 1024m") || !strings.HasSuffix(args, "spark://127.0.1.1:7077") || !strings.Contains(args, "--work-dir /d/spark/work") {
		t.Errorf("worker args = %s", args)
	}
	if w.Launch.Env["SPARK_LOCAL_IP"] != "127.0.1.1" {
		t.Errorf("env = %v", w.Launch.Env)
	}
}

// DataNodes of hosts sharing a machine get distinct ports; on machines of
// their own they keep the set port.
func TestDataNodePortsPerMachine(t *testing.T) {
	c := mustLoad(t)
	hdfs, _ := c.Type("HDFS")
	host := func(n int, machine string) Host {
		return Host{ID: fmt.Sprintf("h%d", n), Address: fmt.Sprintf("127.0.1.%d", n), DataDir: "/d", Machine: machine}
	}
	tests := []struct {
		name     string
		machines []string // of the hosts of DATANODE-1..n
		want     []string // their dfs.datanode.address
	}{
		{"one machine", []string{"m", "m", "m"}, []string{"127.0.1.1:9866", "127.0.1.2:9876", "127.0.1.3:9886"}},
		{"own machines", []string{"a", "b", "c"}, []string{"127.0.1.1:9866", "127.0.1.2:9866", "127.0.1.3:9866"}},
		{"machine unknown", []string{"", "", ""}, []string{"127.0.1.1:9866", "127.0.1.2:9866", "127.0.1.3:9866"}},
		{"two and one", []string{"m", "n", "m"}, []string{"127.0.1.1:9866", "127.0.1.2:9866", "127.0.1.3:9876"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := RenderInput{Cluster: "c", ClusterID: "cid", Service: "HDFS-1",
				Peers: []RoleInstance{{Name: "NN", Type: "NAMENODE", Host: host(1, tc.machines[0])}}}
			for i, m := range tc.machines {
				in.Peers = append(in.Peers, RoleInstance{Name: fmt.Sprintf("DATANODE-%d", i+1), Type: "DATANODE", Host: host(i+1, m)})
			}
			for i, want := range tc.want {
				in.Role = in.Peers[i+1]
				spec, err := hdfs.Render(in)
				if err != nil {
					t.Fatal(err)
				}
				var site string
				for _, f := range spec.Files {
					if f.Path == "hdfs-site.xml" {
						site = f.Content
					}
				}
				if w := "<name>dfs.datanode.address</name><value>" + want + "</value>"; !strings.Contains(site, w) {
					t.Errorf("%s: hdfs-site.xml lacks %s", in.Role.Name, w)
				}
			}
		})
	}
}

// RenderAll gives every role the spec Render gives it alone.
func TestRenderAllMatchesRender(t *testing.T) {
	c := mustLoad(t)
	hdfs, _ := c.Type("HDFS")
	in := hdfsTopology()
	in.Peers = append(in.Peers, RoleInstance{Name: "HDFS-1-DATANODE-2", Type: "DATANODE",
		Host: Host{ID: "h3", Address: "127.0.1.3", DataDir: "/data/h3", Machine: "m"}})
	specs, errs := hdfs.RenderAll(in)
	if len(errs) != 0 || len(specs) != len(in.Peers) {
		t.Fatalf("specs %d, errs %v", len(specs), errs)
	}
	for _, p := range in.Peers {
		in.Role = p
		one, err := hdfs.Render(in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one, specs[p.Name]) {
			t.Errorf("%s: Render and RenderAll differ:\n%+v\n%+v", p.Name, one, specs[p.Name])
		}
	}
	// A role that cannot render is reported by name; the others render.
	in.Peers = in.Peers[1:] // no NameNode: the DataNodes' files need one
	specs, errs = hdfs.RenderAll(in)
	if len(specs) != 0 || errs["HDFS-1-DATANODE-1"] == nil || !strings.Contains(errs["HDFS-1-DATANODE-1"].Error(), "no NAMENODE") {
		t.Errorf("without a NameNode: specs %v, errs %v", specs, errs)
	}
}

// Decommissioning a DataNode changes the NameNode's exclude file, which a
// refresh applies: neither role becomes stale.
func TestDecommissionRefresh(t *testing.T) {
	c := mustLoad(t)
	hdfs, _ := c.Type("HDFS")
	host := func(n int, machine string) Host {
		return Host{ID: fmt.Sprintf("h%d", n), Address: fmt.Sprintf("127.1.0.%d", n), DataDir: fmt.Sprintf("/d%d", n), Machine: machine}
	}
	tests := []struct {
		name, machine, want string
	}{
		{"same machine", "m", "127.0.0.1:9876"},
		{"machines of their own", "", "127.1.0.3:9866"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := RenderInput{Cluster: "c", ClusterID: "cid", Service: "HDFS-1", Peers: []RoleInstance{
				{Name: "NN", Type: "NAMENODE", Host: host(1, tc.machine)},
				{Name: "DN-1", Type: "DATANODE", Host: host(2, tc.machine)},
				{Name: "DN-2", Type: "DATANODE", Host: host(3, tc.machine)},
			}}
			before, errs := hdfs.RenderAll(in)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			in.Peers[2].CommissionState = "DECOMMISSIONING"
			after, errs := hdfs.RenderAll(in)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			nn := after["NN"]
			if nn.Refresh == nil || nn.Refresh.MainClass != "org.apache.hadoop.hdfs.tools.DFSAdmin" {
				t.Fatalf("NameNode refresh = %+v", nn.Refresh)
			}
			var exclude, site string
			for _, f := range nn.Files {
				switch f.Path {
				case "dfs.exclude":
					exclude = f.Content
				case "hdfs-site.xml":
					site = f.Content
				}
			}
			if strings.TrimSpace(exclude) != tc.want {
				t.Errorf("dfs.exclude = %q, want %q", exclude, tc.want)
			}
			if !strings.Contains(site, "<value>/d1/roles/NN/conf/dfs.exclude</value>") {
				t.Errorf("hdfs-site.xml does not name the exclude file:\n%s", site)
			}
			if nn.ConfigHash != before["NN"].ConfigHash || nn.Refresh.Hash == before["NN"].Refresh.Hash {
				t.Errorf("NameNode hashes: config %s -> %s, refresh %s -> %s", before["NN"].ConfigHash, nn.ConfigHash, before["NN"].Refresh.Hash, nn.Refresh.Hash)
			}
			for _, dn := range []string{"DN-1", "DN-2"} {
				if after[dn].ConfigHash != before[dn].ConfigHash {
					t.Errorf("%s became stale", dn)
				}
			}
		})
	}
}

func TestParseSnippet(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		{"", map[string]string{}, ""},
		{"<property><name>io.file.buffer.size</name><value>65536</value></property>", map[string]string{"io.file.buffer.size": "65536"}, ""},
		{"a.b=1\n# note\n\nexport HADOOP_HEAPSIZE=\"3001\"", map[string]string{"a.b": "1", "HADOOP_HEAPSIZE": "3001"}, ""},
		{"no equals sign", nil, "want name=value"},
		{"<property><name>bad name</name><value>1</value></property>", nil, "not valid"},
		{"<property><name>x</name>", nil, "<property>"},
	}
	for _, tc := range tests {
		got, err := ParseSnippet(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSnippet(%q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSnippet(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// A safety valve adds to, and wins over, the generated file.
func TestSafetyValve(t *testing.T) {
	c := mustLoad(t)
	hdfs, _ := c.Type("HDFS")
	p, _ := hdfs.Param("core_site_safety_valve")
	v, err := p.Normalize("<property><name>io.file.buffer.size</name><value>65536</value></property><property><name>hadoop.tmp.dir</name><value>/x</value></property>")
	if err != nil {
		t.Fatal(err)
	}
	in := hdfsTopology()
	in.ServiceConfig = map[string]string{"core_site_safety_valve": v, "hadoop_env_safety_valve": "HADOOP_HEAPSIZE=3001"}
	in.Role = in.Peers[1]
	spec, err := hdfs.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range spec.Files {
		switch f.Path {
		case "core-site.xml":
			for _, want := range []string{"<name>io.file.buffer.size</name><value>65536</value>", "<name>hadoop.tmp.dir</name><value>/x</value>"} {
				if !strings.Contains(f.Content, want) {
					t.Errorf("core-site.xml lacks %s:\n%s", want, f.Content)
				}
			}
		case "hadoop-env.sh":
			if !strings.Contains(f.Content, `export HADOOP_HEAPSIZE="3001"`) {
				t.Errorf("hadoop-env.sh = %q", f.Content)
			}
		}
	}
}
