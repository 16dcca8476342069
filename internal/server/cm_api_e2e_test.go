package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/server/servertest"
)

// These tests drive the Cloudera Manager API of a real server with plain
// HTTP. Host agents are played by the test over the agent protocol: no
// process is started.

// capiClient calls one server's CM API.
type capiClient struct {
	t      *testing.T
	env    *servertest.Env
	authz  string // Authorization header; "" sends none
	agents []*capiAgent
}

func newCAPI(t *testing.T) *capiClient {
	t.Helper()
	env := servertest.Start(t)
	return &capiClient{t: t, env: env, authz: basic("admin", env.AdminPassword)}
}

// do sends a request with a raw body (none when empty) and returns the
// status, headers and body.
func (c *capiClient) do(method, path, body string) (int, http.Header, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.env.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.authz != "" {
		req.Header.Set("Authorization", c.authz)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// ok sends a request that must answer 200 with JSON, and decodes it.
func (c *capiClient) ok(method, path string, body any) map[string]any {
	c.t.Helper()
	raw := ""
	switch b := body.(type) {
	case nil:
	case string:
		raw = b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		raw = string(j)
	}
	status, h, b := c.do(method, path, raw)
	if status != http.StatusOK {
		c.t.Fatalf("%s %s: %d %s", method, path, status, b)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		c.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
	}
	return out
}

// capiError checks that an answer is a CM error: the status, JSON, an
// object with a message (and nothing but message and causes) that holds
// every one of parts.
func capiError(t *testing.T, status int, h http.Header, b []byte, wantStatus int, parts ...string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d, want %d: %s", status, wantStatus, b)
	}
	if ct := h.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("error body is not a JSON object: %q", b)
	}
	msg, ok := body["message"].(string)
	if !ok || msg == "" {
		t.Fatalf("error body has no message: %s", b)
	}
	for k := range body {
		if k != "message" && k != "causes" {
			t.Errorf("error body has field %q: %s", k, b)
		}
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("message %q does not say %q", msg, p)
		}
	}
}

func items(m map[string]any) []map[string]any {
	raw, _ := m["items"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, it := range raw {
		out = append(out, it.(map[string]any))
	}
	return out
}

// capiAgent plays a host agent over the agent protocol: it runs what its
// desired state says at once and reports it with probes that pass.
type capiAgent struct {
	c          *capiClient
	id, secret string
	silent     bool
	procs      map[string]capiProc
	pid        int
	fields     map[string]map[string]any // probe fields by role type
}

type capiProc struct {
	seq  int64
	hash string
	pid  int
}

// agentCall sends a request of the agent protocol (or Herd's own API)
// and decodes the answer.
func (c *capiClient) agentCall(method, path, authz string, body, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.env.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		c.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
}

// register admits agents for hosts h1..hn (addresses 127.0.1.i) with a
// host token, as `herd agent` does.
func (c *capiClient) register(n int) {
	c.t.Helper()
	var tok map[string]any
	c.agentCall("POST", "/herd/v1/host-tokens", c.authz, map[string]string{"description": "cm api test"}, &tok)
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("h%d", i)
		var reg agentapi.Registered
		c.agentCall("POST", agentapi.RegisterPath, "", agentapi.Register{Token: tok["token"].(string), HostID: id, Hostname: id + ".example",
			Address: fmt.Sprintf("127.0.1.%d", i), Facts: capiFacts(id)}, &reg)
		c.agents = append(c.agents, &capiAgent{c: c, id: reg.HostID, secret: reg.Secret, procs: map[string]capiProc{}, pid: 1000,
			fields: map[string]map[string]any{
				"NAMENODE": {"fsState": "Operational", "liveDataNodes": float64(n), "deadDataNodes": 0.0},
				"MASTER":   {"status": "ALIVE", "aliveWorkers": float64(n)},
			}})
	}
}

func capiFacts(id string) agentapi.Facts {
	return agentapi.Facts{Cores: 2, MemoryBytes: 4 << 30, DataDir: "/data/" + id, OS: "linux", MachineID: "m-" + id,
		Runtimes: map[string]string{agentapi.RuntimeHadoop: "3.4.1", agentapi.RuntimeSpark: "3.5.3"}, AgentVersion: "test"}
}

func (a *capiAgent) beat() {
	a.c.t.Helper()
	authz := "Bearer " + a.id + ":" + a.secret
	var d agentapi.Desired
	a.c.agentCall("GET", agentapi.DesiredPath, authz, nil, &d)
	var roles []agentapi.RoleStatus
	for _, spec := range d.Roles {
		p, running := a.procs[spec.Name]
		switch {
		case !spec.Run:
			delete(a.procs, spec.Name)
			running = false
		case !running || spec.StartSeq > p.seq:
			a.pid++
			p, running = capiProc{seq: spec.StartSeq, hash: spec.ConfigHash, pid: a.pid}, true
			a.procs[spec.Name] = p
		}
		st := agentapi.RoleStatus{Name: spec.Name, State: agentapi.StateStopped}
		if running {
			st = agentapi.RoleStatus{Name: spec.Name, State: agentapi.StateRunning, StartSeq: p.seq, ConfigHash: p.hash, Pid: p.pid,
				Probes: map[string]agentapi.ProbeResult{}}
			for _, pr := range spec.Probes {
				st.Probes[pr.Name] = agentapi.ProbeResult{OK: true, Fields: maps.Clone(a.fields[spec.Type]), At: time.Now()}
			}
		}
		roles = append(roles, st)
	}
	var reply agentapi.HeartbeatReply
	a.c.agentCall("POST", agentapi.HeartbeatPath, authz, agentapi.Heartbeat{Facts: capiFacts(a.id), DesiredHash: d.Hash, Roles: roles}, &reply)
}

func (c *capiClient) beat() {
	c.t.Helper()
	for _, a := range c.agents {
		if !a.silent {
			a.beat()
		}
	}
}

// wait makes the agents beat until a command ends and returns it.
func (c *capiClient) wait(cmd map[string]any) map[string]any {
	c.t.Helper()
	path := fmt.Sprintf("/api/v19/commands/%v", cmd["id"])
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c.beat()
		cur := c.ok("GET", path, nil)
		if cur["active"] == false {
			c.beat()
			return cur
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("command %v still active after 30s", cmd["id"])
	return nil
}

const capiCluster = "/api/v19/clusters/Cluster%201"

// build makes hosts h1..h3 (agents registered), cluster "Cluster 1" with
// h1 and h2, and HDFS-1 with a NameNode on h1 and a DataNode on h1 and h2.
func (c *capiClient) build() {
	c.t.Helper()
	c.register(3)
	c.ok("POST", "/api/v19/clusters", `{"items": [{"name": "Cluster 1", "fullVersion": "5.16.2"}]}`)
	c.ok("POST", capiCluster+"/hosts", `{"items": [{"hostId": "h1"}, {"hostId": "h2"}]}`)
	c.ok("POST", capiCluster+"/services", `{"items": [{"name": "HDFS-1", "type": "HDFS"}]}`)
	c.ok("POST", capiCluster+"/services/HDFS-1/roles", `{"items": [
		{"name": "nn", "type": "NAMENODE", "hostRef": {"hostId": "h1"}},
		{"name": "dn1", "type": "DATANODE", "hostRef": {"hostId": "h1"}},
		{"name": "dn2", "type": "DATANODE", "hostRef": {"hostId": "h2"}}]}`)
}

// inventory lists what the API shows of the inventory, to show that a
// refused request changed nothing.
func (c *capiClient) inventory() []string {
	c.t.Helper()
	var out []string
	for _, h := range items(c.ok("GET", "/api/v19/hosts", nil)) {
		out = append(out, fmt.Sprintf("host %v %v cluster=%v roles=%v", h["hostId"], h["ipAddress"], h["clusterRef"], len(h["roleRefs"].([]any))))
	}
	for _, cl := range items(c.ok("GET", "/api/v19/clusters", nil)) {
		name := cl["name"].(string)
		p := "/api/v19/clusters/" + strings.ReplaceAll(name, " ", "%20")
		out = append(out, fmt.Sprintf("cluster %s %v %v", name, cl["version"], cl["fullVersion"]))
		for _, h := range items(c.ok("GET", p+"/hosts", nil)) {
			out = append(out, fmt.Sprintf("  host %v", h["hostId"]))
		}
		for _, s := range items(c.ok("GET", p+"/services", nil)) {
			sp := p + "/services/" + s["name"].(string)
			out = append(out, fmt.Sprintf("  service %v %v config=%v", s["name"], s["type"], c.ok("GET", sp+"/config", nil)["items"]))
			for _, r := range items(c.ok("GET", sp+"/roles", nil)) {
				out = append(out, fmt.Sprintf("    role %v %v %v %v", r["name"], r["type"], r["hostRef"], r["roleState"]))
			}
			for _, g := range items(c.ok("GET", sp+"/roleConfigGroups", nil)) {
				out = append(out, fmt.Sprintf("    group %v %v", g["name"], g["config"]))
			}
		}
	}
	return out
}

// TestCMBadInput sends requests the CM API must refuse, and checks the
// status, the CM error shape, a message that says what and why, and that
// nothing changed.
func TestCMBadInput(t *testing.T) {
	t.Parallel()
	c := newCAPI(t)
	c.build()
	before := c.inventory()
	const svc = capiCluster + "/services/HDFS-1"
	const dnGroup = svc + "/roleConfigGroups/HDFS-1-DATANODE-BASE"
	tests := []struct {
		name, method, path, body string
		status                   int
		parts                    []string
	}{
		{"unknown service type", "POST", capiCluster + "/services", `{"items": [{"name": "HBASE-1", "type": "HBASE"}]}`,
			400, []string{"unknown service type 'HBASE'", "HDFS, SPARK"}},
		{"one bad service of two", "POST", capiCluster + "/services", `{"items": [{"name": "SPARK-1", "type": "SPARK"}, {"name": "X-1", "type": "X"}]}`,
			400, []string{"unknown service type 'X'"}},
		{"no services", "POST", capiCluster + "/services", `{"items": []}`, 400, []string{"no services given"}},
		{"duplicate service", "POST", capiCluster + "/services", `{"items": [{"name": "HDFS-1", "type": "HDFS"}]}`,
			400, []string{"service 'HDFS-1' already exists"}},
		{"service of missing cluster", "POST", "/api/v19/clusters/nope/services", `{"items": [{"name": "HDFS-2", "type": "HDFS"}]}`,
			404, []string{"cluster 'nope' not found"}},
		{"unknown role type", "POST", svc + "/roles", `{"items": [{"type": "JOURNALNODE", "hostRef": {"hostId": "h1"}}]}`,
			400, []string{"unknown role type 'JOURNALNODE' for service type HDFS", "NAMENODE"}},
		{"role on host outside the cluster", "POST", svc + "/roles", `{"items": [{"name": "dn3", "type": "DATANODE", "hostRef": {"hostId": "h3"}}]}`,
			400, []string{"host 'h3' is not in cluster 'Cluster 1'", "add it to the cluster first"}},
		{"second NameNode", "POST", svc + "/roles", `{"items": [{"name": "nn2", "type": "NAMENODE", "hostRef": {"hostId": "h2"}}]}`,
			400, []string{"at most 1 NAMENODE"}},
		{"role without host", "POST", svc + "/roles", `{"items": [{"name": "dn3", "type": "DATANODE"}]}`,
			400, []string{"needs hostRef.hostId"}},
		{"config value not an int", "PUT", svc + "/config", `{"items": [{"name": "dfs_replication", "value": "abc"}]}`,
			400, []string{"'dfs_replication'", `"abc" is not an integer`}},
		{"config value below min", "PUT", svc + "/config", `{"items": [{"name": "dfs_replication", "value": "0"}]}`,
			400, []string{"'dfs_replication'", "0 is below the minimum 1"}},
		{"config number below min", "PUT", svc + "/config", `{"items": [{"name": "dfs_replication", "value": 0}]}`,
			400, []string{"'dfs_replication'", "0 is below the minimum 1"}},
		{"config fraction", "PUT", svc + "/config", `{"items": [{"name": "dfs_replication", "value": 2.5}]}`,
			400, []string{"'dfs_replication'", `"2.5" is not an integer`}},
		{"config object value", "PUT", svc + "/config", `{"items": [{"name": "dfs_replication", "value": {"v": 2}}]}`,
			400, []string{"dfs_replication", "must be a string, number, boolean or null"}},
		{"config batch with a bad value", "PUT", svc + "/config", `{"items": [{"name": "dfs_replication", "value": 2}, {"name": "dfs_permissions", "value": "maybe"}]}`,
			400, []string{"'dfs_permissions'", "not a boolean"}},
		{"unknown config name", "PUT", svc + "/config", `{"items": [{"name": "dfs_nope", "value": "1"}]}`,
			400, []string{"unknown configuration parameter 'dfs_nope' for service type HDFS"}},
		{"role type configs", "PUT", svc + "/config", `{"items": [], "roleTypeConfigs": [{"roleType": "DATANODE", "items": [{"name": "dfs_datanode_port", "value": 1}]}]}`,
			400, []string{"roleTypeConfigs", "role config groups"}},
		{"config of missing service", "PUT", capiCluster + "/services/nope/config", `{"items": [{"name": "dfs_replication", "value": 2}]}`,
			404, []string{"service 'nope' not found"}},
		{"group config not a bool", "PUT", dnGroup + "/config", `{"items": [{"name": "process_auto_restart", "value": "maybe"}]}`,
			400, []string{"'process_auto_restart'", `"maybe" is not a boolean`}},
		{"group config port", "PUT", dnGroup + "/config", `{"items": [{"name": "dfs_datanode_port", "value": 70000}]}`,
			400, []string{"'dfs_datanode_port'", "70000 is above the maximum 65535"}},
		{"group config of missing group", "PUT", svc + "/roleConfigGroups/nope/config", `{"items": [{"name": "process_auto_restart", "value": true}]}`,
			404, []string{"role config group 'nope' not found"}},
		{"bad view", "GET", svc + "/config?view=everything", "", 400, []string{`invalid view "everything"`, "summary, full"}},
		{"malformed JSON", "POST", "/api/v19/clusters", `{"items": [{"name": "c2",}]}`, 400, []string{"malformed JSON"}},
		{"truncated JSON", "PUT", svc + "/config", `{"items": [{"name": "dfs_replication", "value": 2}`, 400, []string{"ends in the middle"}},
		{"not JSON", "POST", capiCluster + "/services", `services please`, 400, []string{"malformed JSON"}},
		{"empty body", "POST", "/api/v19/clusters", ``, 400, []string{"request body is empty"}},
		{"items not a list", "POST", "/api/v19/clusters", `{"items": {"name": "c2"}}`, 400, []string{`"items"`}},
		{"trailing data", "POST", "/api/v19/clusters", `{"items": []} {}`, 400, []string{"data after the JSON value"}},
		{"no clusters", "POST", "/api/v19/clusters", `{"items": []}`, 400, []string{"no clusters given"}},
		{"duplicate cluster", "POST", "/api/v19/clusters", `{"items": [{"name": "Cluster 1"}]}`, 400, []string{`cluster "Cluster 1" already exists`}},
		{"one bad cluster of two", "POST", "/api/v19/clusters", `{"items": [{"name": "c2"}, {"name": "c3", "version": "CDH9"}]}`,
			400, []string{`version "CDH9"`}},
		{"host with bad address", "POST", "/api/v19/hosts", `{"items": [{"hostId": "h9", "ipAddress": "1.2.3"}]}`,
			400, []string{`ipAddress "1.2.3" is not an IP address`}},
		{"one bad host of two", "POST", "/api/v19/hosts", `{"items": [{"hostId": "h8", "ipAddress": "10.0.0.8"}, {"hostId": "h1"}]}`,
			400, []string{`host "h1" already exists`}},
		{"add unknown host", "POST", capiCluster + "/hosts", `{"items": [{"hostId": "h3"}, {"hostId": "h9"}]}`, 404, []string{"host 'h9' not found"}},
		{"remove host with roles", "DELETE", capiCluster + "/hosts/h2", "", 400, []string{"host 'h2' still has roles", "delete them first"}},
		{"delete host with roles", "DELETE", "/api/v19/hosts/h1", "", 400, []string{"host 'h1' still has 2 roles"}},
		{"command on missing cluster", "POST", "/api/v19/clusters/nope/commands/start", "", 404, []string{"cluster 'nope' not found"}},
		{"command on missing service", "POST", capiCluster + "/services/nope/commands/start", "", 404, []string{"service 'nope' not found in cluster 'Cluster 1'"}},
		{"unknown service command", "POST", svc + "/commands/format", "", 404, []string{"unknown service command 'format'"}},
		{"role command on missing service", "POST", capiCluster + "/services/nope/roleCommands/restart", `{"items": ["nn"]}`,
			404, []string{"service 'nope' not found"}},
		{"role command without names", "POST", svc + "/roleCommands/restart", `{"items": []}`, 400, []string{"no role names given"}},
		{"missing command", "GET", "/api/v19/commands/999999", "", 404, []string{"command 999999 not found"}},
		{"command id not a number", "GET", "/api/v19/commands/abc", "", 404, []string{`command "abc" not found`}},
		{"abort missing command", "POST", "/api/v19/commands/999999/abort", "", 404, []string{"command 999999 not found"}},
		{"missing cluster", "GET", "/api/v19/clusters/nope", "", 404, []string{"cluster 'nope' not found"}},
		{"missing service", "GET", capiCluster + "/services/nope", "", 404, []string{"service 'nope' not found in cluster 'Cluster 1'"}},
		{"services of missing cluster", "GET", "/api/v19/clusters/nope/services", "", 404, []string{"cluster 'nope' not found"}},
		{"missing role", "GET", svc + "/roles/nope", "", 404, []string{"role 'nope' not found in service 'HDFS-1'"}},
		{"missing host", "GET", "/api/v19/hosts/nope", "", 404, []string{"host 'nope' not found"}},
		{"missing group", "GET", svc + "/roleConfigGroups/nope", "", 404, []string{"role config group 'nope' not found"}},
		{"config of missing group", "GET", svc + "/roleConfigGroups/nope/config", "", 404, []string{"role config group 'nope' not found"}},
		{"unserved version", "GET", "/api/v20/clusters", "", 404, []string{`API version "v20" is not served`, "v1 to v19"}},
		{"version zero", "GET", "/api/v0/clusters", "", 404, []string{`API version "v0" is not served`}},
		{"version not a number", "GET", "/api/vx/clusters", "", 404, []string{`API version "vx" is not served`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, b := c.do(tc.method, tc.path, tc.body)
			capiError(t, status, h, b, tc.status, tc.parts...)
			if tc.method == "GET" {
				return // reads change nothing, and the lists are slow to take
			}
			if diff := cmp.Diff(before, c.inventory()); diff != "" {
				t.Fatalf("the inventory changed (-before +after):\n%s", diff)
			}
		})
	}

	// Unknown role names in a bulk role command are reported in errors
	// (CM's choice here is not documented; cm_api accepts either way).
	out := c.ok("POST", svc+"/roleCommands/restart", `{"items": ["NOPE"]}`)
	if diff := cmp.Diff(map[string]any{"errors": []any{"Role 'NOPE' does not exist in service 'HDFS-1'."}, "items": []any{}}, out); diff != "" {
		t.Errorf("bulk command on an unknown role (-want +got):\n%s", diff)
	}
}

func TestCMAuth(t *testing.T) {
	t.Parallel()
	c := newCAPI(t)
	challenge := `Basic realm="Cloudera Manager"`
	for _, tc := range []struct {
		name, authz, path string
		parts             []string
	}{
		{"no credentials", "", "/api/v19/clusters", []string{"authentication required"}},
		{"no credentials, version", "", "/api/version", []string{"authentication required"}},
		{"no credentials, echo", "", "/api/v19/tools/echo?message=x", []string{"authentication required"}},
		{"wrong password", basic("admin", "wrong"), "/api/v19/clusters", []string{"invalid user name or password"}},
		{"unknown user", basic("nobody", "pw"), "/api/v1/clusters", []string{"invalid user name or password"}},
		{"malformed Basic", "Basic !!!", "/api/v19/clusters", []string{"malformed Basic credentials"}},
		{"Bearer", "Bearer abc", "/api/v19/clusters", []string{`authorization scheme "Bearer" is not accepted here`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.authz = tc.authz
			status, h, b := c.do("GET", tc.path, "")
			capiError(t, status, h, b, http.StatusUnauthorized, tc.parts...)
			if got := h.Get("WWW-Authenticate"); got != challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", got, challenge)
			}
		})
	}

	// Basic, then the session cookie alone.
	c.authz = basic("admin", c.env.AdminPassword)
	status, h, _ := c.do("GET", "/api/v19/tools/echo?message=hi", "")
	cookie := ""
	for _, sc := range h.Values("Set-Cookie") {
		cookie = strings.SplitN(sc, ";", 2)[0]
	}
	if status != http.StatusOK || cookie == "" {
		t.Fatalf("Basic login: %d, cookie %q", status, cookie)
	}
	req, _ := http.NewRequest("GET", c.env.URL+"/api/v19/clusters", nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("request with the session cookie: %d", resp.StatusCode)
	}

	// A read-only user reads, and may not write.
	c.ok("POST", "/api/v19/users", `{"items": [{"name": "viewer", "password": "viewer-pw-1234", "roles": ["ROLE_READONLY"]}]}`)
	c.authz = basic("viewer", "viewer-pw-1234")
	c.ok("GET", "/api/v19/clusters", nil)
	status, h, b := c.do("POST", "/api/v19/clusters", `{"items": [{"name": "c2"}]}`)
	capiError(t, status, h, b, http.StatusForbidden, "user viewer is read-only")
	c.authz = basic("admin", c.env.AdminPassword)
	if n := len(items(c.ok("GET", "/api/v19/clusters", nil))); n != 0 {
		t.Errorf("clusters after a refused create: %d", n)
	}
}

var (
	capiTime           = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	capiHealth         = []string{"DISABLED", "HISTORY_NOT_AVAILABLE", "NOT_AVAILABLE", "GOOD", "CONCERNING", "BAD"}
	capiServiceState   = []string{"HISTORY_NOT_AVAILABLE", "UNKNOWN", "STARTING", "STARTED", "STOPPING", "STOPPED", "NA"}
	capiRoleState      = []string{"HISTORY_NOT_AVAILABLE", "UNKNOWN", "STARTING", "STARTED", "BUSY", "STOPPING", "STOPPED", "NA"}
	capiCommission     = []string{"COMMISSIONED", "DECOMMISSIONING", "DECOMMISSIONED", "UNKNOWN", "OFFLINING", "OFFLINED"}
	capiStaleness      = []string{"FRESH", "STALE_REFRESHABLE", "STALE"}
	capiEntityStatuses = []string{"UNKNOWN", "NONE", "STOPPED", "DOWN", "UNKNOWN_HEALTH", "DISABLED_HEALTH", "CONCERNING_HEALTH",
		"BAD_HEALTH", "GOOD_HEALTH", "STARTING", "STOPPING", "HISTORY_NOT_AVAILABLE"}
)

// capiShape checks an object's fields: every one is allowed (cm_api 19.0.0
// fails on fields it does not know), the required ones are there, and
// enumerations hold known values.
func capiShape(t *testing.T, what string, obj map[string]any, allowed, required []string, enums map[string][]string) {
	t.Helper()
	for k := range obj {
		if !slices.Contains(allowed, k) {
			t.Errorf("%s has field %q, not in CM's v19 field set", what, k)
		}
	}
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s lacks %q: %v", what, k, obj)
		}
	}
	for k, values := range enums {
		if v, ok := obj[k].(string); !ok || !slices.Contains(values, v) {
			t.Errorf("%s: %s = %v, want one of %v", what, k, obj[k], values)
		}
	}
}

func capiChecks(t *testing.T, what string, obj map[string]any) []string {
	t.Helper()
	list, ok := obj["healthChecks"].([]any)
	if !ok {
		t.Fatalf("%s: healthChecks is not a list: %v", what, obj["healthChecks"])
	}
	var names []string
	for _, c := range list {
		m := c.(map[string]any)
		capiShape(t, what+" health check", m, []string{"name", "summary", "explanation", "suppressed"}, []string{"name", "summary"},
			map[string][]string{"summary": capiHealth})
		names = append(names, fmt.Sprintf("%v=%v", m["name"], m["summary"]))
	}
	return names
}

func TestCMVersionsAndTools(t *testing.T) {
	t.Parallel()
	c := newCAPI(t)
	status, h, b := c.do("GET", "/api/version", "")
	if status != http.StatusOK || string(b) != "v19" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("/api/version: %d %q %q", status, h.Get("Content-Type"), b)
	}
	for _, tc := range []struct {
		path string
		want map[string]any
	}{
		{"/api/v19/tools/echo?message=x", map[string]any{"message": "x"}},
		{"/api/v1/tools/echo?message=hello+world", map[string]any{"message": "hello world"}},
		{"/api/v19/tools/echo", map[string]any{"message": "Hello, World!"}},
		{"/api/v19/tools/echo?message=", map[string]any{"message": ""}},
	} {
		if diff := cmp.Diff(tc.want, c.ok("GET", tc.path, nil)); diff != "" {
			t.Errorf("GET %s (-want +got):\n%s", tc.path, diff)
		}
	}
	status, h, b = c.do("GET", "/api/v19/tools/echoError?message=boom", "")
	capiError(t, status, h, b, http.StatusInternalServerError, "boom")

	v := c.ok("GET", "/api/v19/cm/version", nil)
	capiShape(t, "ApiVersionInfo", v, []string{"version", "snapshot", "buildUser", "buildTimestamp", "gitHash"}, []string{"version", "snapshot"}, nil)
	if v["version"] != "5.16.2" || v["snapshot"] != false {
		t.Errorf("cm/version = %v", v)
	}
	// Every version from v1 to v19 serves the same handlers.
	c.ok("POST", "/api/v1/clusters", `{"items": [{"name": "c1", "version": "CDH5"}]}`)
	v1 := c.ok("GET", "/api/v1/clusters", nil)
	v19 := c.ok("GET", "/api/v19/clusters", nil)
	if diff := cmp.Diff(v1, v19); diff != "" || len(items(v19)) != 1 {
		t.Errorf("/api/v1 and /api/v19 differ (-v1 +v19):\n%s", diff)
	}
}

// TestCMShapes builds an inventory, starts it with agents played by the
// test, and checks the JSON of every kind of object against CM's.
func TestCMShapes(t *testing.T) {
	t.Parallel()
	c := newCAPI(t)
	c.build()
	c.ok("POST", capiCluster+"/services", `{"items": [{"name": "SPARK-1", "type": "SPARK"}]}`)
	c.ok("POST", capiCluster+"/services/SPARK-1/roles", `{"items": [
		{"name": "master", "type": "MASTER", "hostRef": {"hostId": "h1"}}, {"name": "w1", "type": "WORKER", "hostRef": {"hostId": "h1"}},
		{"name": "w2", "type": "WORKER", "hostRef": {"hostId": "h2"}}]}`)
	c.agents[0].fields["NAMENODE"]["liveDataNodes"] = 2.0
	c.agents[0].fields["MASTER"]["aliveWorkers"] = 2.0
	const svc = capiCluster + "/services/HDFS-1"

	cl := c.ok("GET", capiCluster, nil)
	capiShape(t, "ApiCluster", cl,
		[]string{"name", "displayName", "version", "fullVersion", "clusterUrl", "hostsUrl", "maintenanceMode", "maintenanceOwners", "entityStatus", "uuid"},
		[]string{"name", "displayName", "version", "fullVersion", "maintenanceMode", "entityStatus"},
		map[string][]string{"version": {"CDH3", "CDH3u4X", "CDH4", "CDH5", "CDH6", "UNKNOWN"}, "entityStatus": capiEntityStatuses})
	if cl["name"] != "Cluster 1" || cl["version"] != "CDH5" || cl["fullVersion"] != "5.16.2" || cl["entityStatus"] != "STOPPED" {
		t.Errorf("cluster = %v", cl)
	}

	// Configuration views.
	full := c.ok("GET", svc+"/config?view=full", nil)
	var repl map[string]any
	for _, it := range items(full) {
		capiShape(t, "full ApiConfig", it, []string{"name", "value", "required", "default", "displayName", "description", "relatedName",
			"validationState", "validationMessage", "validationWarningsSuppressed", "sensitive"},
			[]string{"name", "required", "default", "displayName", "description", "relatedName", "validationState"},
			map[string][]string{"validationState": {"OK", "WARNING", "ERROR"}})
		if it["name"] == "dfs_replication" {
			repl = it
		}
	}
	if repl == nil || repl["relatedName"] != "dfs.replication" || repl["default"] != "3" || repl["description"] == "" || repl["value"] != nil {
		t.Errorf("full view of dfs_replication = %v", repl)
	}
	if diff := cmp.Diff(full, c.ok("GET", svc+"/config?view=FULL", nil)); diff != "" {
		t.Errorf("view=FULL differs from view=full:\n%s", diff)
	}
	if got := c.ok("GET", svc+"/config", nil); len(items(got)) != 0 {
		t.Errorf("summary of an unset configuration = %v", got)
	}
	// cm_api sends numbers and booleans as JSON values; they come back as
	// strings, and only set values are in the summary.
	want := map[string]any{"items": []any{map[string]any{"name": "dfs_replication", "value": "2"}}}
	if diff := cmp.Diff(want, c.ok("PUT", svc+"/config", `{"items": [{"name": "dfs_replication", "value": 2}]}`)); diff != "" {
		t.Errorf("PUT config answer (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, c.ok("GET", svc+"/config?view=summary", nil)); diff != "" {
		t.Errorf("summary view (-want +got):\n%s", diff)
	}
	for _, it := range items(c.ok("GET", svc+"/config?view=full", nil)) {
		if it["name"] == "dfs_replication" && (it["value"] != "2" || it["default"] != "3") {
			t.Errorf("full view after the update: %v", it)
		}
	}
	group := svc + "/roleConfigGroups/HDFS-1-DATANODE-BASE"
	want = map[string]any{"items": []any{map[string]any{"name": "process_auto_restart", "value": "true"}}}
	if diff := cmp.Diff(want, c.ok("PUT", group+"/config", `{"items": [{"name": "process_auto_restart", "value": true}]}`)); diff != "" {
		t.Errorf("PUT group config answer (-want +got):\n%s", diff)
	}
	var desc string
	for _, it := range items(c.ok("GET", group+"/config?view=full", nil)) {
		if it["name"] == "process_auto_restart" {
			desc, _ = it["description"].(string)
		}
	}
	if desc == "" {
		t.Errorf("full view of the group has no description of process_auto_restart")
	}
	g := c.ok("GET", group, nil)
	capiShape(t, "ApiRoleConfigGroup", g, []string{"name", "displayName", "roleType", "base", "config", "serviceRef"},
		[]string{"name", "roleType", "base", "config", "serviceRef"}, nil)
	if diff := cmp.Diff(want, g["config"]); diff != "" {
		t.Errorf("group config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"items": []any{}}, c.ok("PUT", group+"/config", `{"items": [{"name": "process_auto_restart", "value": null}]}`)); diff != "" {
		t.Errorf("reset (-want +got):\n%s", diff)
	}

	// A start command, as CM shapes it.
	cmd := c.ok("POST", capiCluster+"/commands/start", nil)
	commandFields := []string{"id", "name", "startTime", "endTime", "active", "success", "resultMessage", "resultDataUrl",
		"clusterRef", "serviceRef", "roleRef", "hostRef", "parent", "children", "canRetry"}
	capiShape(t, "new ApiCommand", cmd, commandFields, []string{"id", "name", "startTime", "active", "clusterRef"}, nil)
	if cmd["active"] != true || cmd["name"] != "Start" || cmd["success"] != nil || cmd["endTime"] != nil || !capiTime.MatchString(fmt.Sprint(cmd["startTime"])) {
		t.Errorf("new command = %v", cmd)
	}
	done := c.wait(cmd)
	capiShape(t, "ended ApiCommand", done, commandFields, []string{"id", "name", "startTime", "endTime", "active", "success", "resultMessage", "clusterRef", "children"}, nil)
	if done["success"] != true || done["resultMessage"] != "Command completed." || !capiTime.MatchString(fmt.Sprint(done["endTime"])) {
		t.Fatalf("ended command = %v", done)
	}
	if diff := cmp.Diff(map[string]any{"clusterName": "Cluster 1"}, done["clusterRef"]); diff != "" {
		t.Errorf("clusterRef (-want +got):\n%s", diff)
	}
	kids := items(done["children"].(map[string]any))
	var kidNames []string
	for _, k := range kids {
		kidNames = append(kidNames, fmt.Sprintf("%v %v", k["name"], k["serviceRef"]))
		capiShape(t, "child ApiCommand", k, commandFields, []string{"id", "name", "serviceRef", "clusterRef", "success"}, nil)
	}
	if diff := cmp.Diff([]string{"Start map[clusterName:Cluster 1 serviceName:HDFS-1]", "Start map[clusterName:Cluster 1 serviceName:SPARK-1]"}, kidNames); diff != "" {
		t.Errorf("children of a cluster start: HDFS first (-want +got):\n%s", diff)
	}
	child := c.ok("GET", fmt.Sprintf("/api/v19/commands/%v", kids[0]["id"]), nil)
	parent, _ := child["parent"].(map[string]any)
	if parent == nil || parent["id"] != cmd["id"] || parent["name"] != "Start" {
		t.Errorf("child command's parent = %v", child["parent"])
	}
	if grandchildren := items(child["children"].(map[string]any)); len(grandchildren) != 3 {
		t.Errorf("children of the HDFS start: %v", grandchildren)
	} else if rr := grandchildren[0]["roleRef"]; !cmp.Equal(rr, map[string]any{"clusterName": "Cluster 1", "serviceName": "HDFS-1", "roleName": "nn"}) {
		t.Errorf("roleRef of the NameNode's start = %v", rr)
	}

	// Services, roles, hosts, clusters after the start.
	for _, s := range items(c.ok("GET", capiCluster+"/services", nil)) {
		name := s["name"].(string)
		capiShape(t, "ApiService "+name, s, []string{"name", "type", "displayName", "clusterRef", "serviceState", "healthSummary", "healthChecks",
			"configStale", "configStalenessStatus", "clientConfigStalenessStatus", "serviceUrl", "roleInstancesUrl", "maintenanceMode",
			"maintenanceOwners", "entityStatus"},
			[]string{"name", "type", "clusterRef", "serviceState", "healthSummary", "healthChecks", "serviceUrl", "configStale"},
			map[string][]string{"serviceState": capiServiceState, "healthSummary": capiHealth, "configStalenessStatus": capiStaleness,
				"entityStatus": capiEntityStatuses})
		if !strings.HasSuffix(s["serviceUrl"].(string), "/cmf/serviceRedirect/"+name) {
			t.Errorf("serviceUrl of %s = %v", name, s["serviceUrl"])
		}
		if diff := cmp.Diff(map[string]any{"clusterName": "Cluster 1"}, s["clusterRef"]); diff != "" {
			t.Errorf("clusterRef of %s (-want +got):\n%s", name, diff)
		}
	}
	hdfs := c.ok("GET", svc, nil)
	if diff := cmp.Diff([]string{"HDFS_NAMENODE_HEALTH=GOOD", "HDFS_DATA_NODES_HEALTHY=GOOD", "HDFS_SAFE_MODE=GOOD"}, capiChecks(t, "HDFS-1", hdfs)); diff != "" {
		t.Errorf("HDFS-1 health checks (-want +got):\n%s", diff)
	}
	if hdfs["serviceState"] != "STARTED" || hdfs["healthSummary"] != "GOOD" || hdfs["entityStatus"] != "GOOD_HEALTH" || hdfs["configStale"] != false {
		t.Errorf("HDFS-1 = %v", hdfs)
	}
	for _, r := range items(c.ok("GET", svc+"/roles", nil)) {
		name := r["name"].(string)
		capiShape(t, "ApiRole "+name, r, []string{"name", "type", "hostRef", "serviceRef", "roleState", "healthSummary", "healthChecks",
			"configStale", "configStalenessStatus", "haStatus", "roleUrl", "commissionState", "maintenanceMode", "maintenanceOwners",
			"roleConfigGroupRef", "entityStatus"},
			[]string{"name", "type", "hostRef", "serviceRef", "roleState", "healthSummary", "healthChecks", "commissionState", "roleConfigGroupRef"},
			map[string][]string{"roleState": capiRoleState, "healthSummary": capiHealth, "commissionState": capiCommission,
				"configStalenessStatus": capiStaleness, "entityStatus": capiEntityStatuses})
		if r["roleState"] != "STARTED" || r["healthSummary"] != "GOOD" || r["commissionState"] != "COMMISSIONED" {
			t.Errorf("role %s = %v", name, r)
		}
		if diff := cmp.Diff(map[string]any{"clusterName": "Cluster 1", "serviceName": "HDFS-1"}, r["serviceRef"]); diff != "" {
			t.Errorf("serviceRef of %s (-want +got):\n%s", name, diff)
		}
		capiChecks(t, "role "+name, r)
	}
	nn := c.ok("GET", svc+"/roles/nn", nil)
	if diff := cmp.Diff([]string{"ROLE_PROCESS_STATUS=GOOD", "ROLE_PROBE_fsnamesystem=GOOD", "NAMENODE_SAFE_MODE=GOOD"}, capiChecks(t, "nn", nn)); diff != "" {
		t.Errorf("NameNode health checks (-want +got):\n%s", diff)
	}
	for _, h := range items(c.ok("GET", "/api/v19/hosts", nil)) {
		capiShape(t, fmt.Sprint("ApiHost ", h["hostId"]), h, []string{"hostId", "hostname", "ipAddress", "rackId", "lastHeartbeat", "roleRefs",
			"healthSummary", "healthChecks", "hostUrl", "commissionState", "maintenanceMode", "maintenanceOwners", "numCores",
			"numPhysicalCores", "totalPhysMemBytes", "entityStatus", "clusterRef", "status"},
			[]string{"hostId", "hostname", "ipAddress", "rackId", "lastHeartbeat", "roleRefs", "healthSummary", "healthChecks", "commissionState"},
			map[string][]string{"healthSummary": capiHealth, "commissionState": capiCommission, "entityStatus": capiEntityStatuses})
		if !capiTime.MatchString(fmt.Sprint(h["lastHeartbeat"])) || h["healthSummary"] != "GOOD" {
			t.Errorf("host %v = %v", h["hostId"], h)
		}
	}
	// The cluster is as good as its worst service.
	if cl := c.ok("GET", capiCluster, nil); cl["entityStatus"] != "GOOD_HEALTH" {
		t.Errorf("cluster entityStatus = %v", cl["entityStatus"])
	}
	c.agents[0].fields["NAMENODE"]["liveDataNodes"] = 0.0
	c.agents[0].fields["MASTER"]["aliveWorkers"] = 1.0
	c.beat()
	if s := c.ok("GET", capiCluster+"/services/SPARK-1", nil); s["healthSummary"] != "CONCERNING" {
		t.Errorf("SPARK-1 health = %v", s["healthSummary"])
	}
	if s := c.ok("GET", svc, nil); s["healthSummary"] != "BAD" {
		t.Errorf("HDFS-1 health = %v", s["healthSummary"])
	}
	if cl := c.ok("GET", capiCluster, nil); cl["entityStatus"] != "BAD_HEALTH" {
		t.Errorf("cluster entityStatus with HDFS-1 BAD and SPARK-1 CONCERNING = %v", cl["entityStatus"])
	}
	c.agents[0].fields["NAMENODE"]["liveDataNodes"] = 2.0
	c.agents[0].fields["MASTER"]["aliveWorkers"] = 2.0

	// Stale configuration, until a restart.
	c.ok("PUT", svc+"/config", `{"items": [{"name": "dfs_replication", "value": 3}]}`)
	c.beat()
	hdfs = c.ok("GET", svc, nil)
	if hdfs["configStale"] != true || hdfs["configStalenessStatus"] != "STALE" {
		t.Errorf("HDFS-1 after a change: configStale %v, %v", hdfs["configStale"], hdfs["configStalenessStatus"])
	}
	bulk := c.ok("POST", svc+"/roleCommands/restart", `{"items": ["nn", "dn1", "dn2"]}`)
	if errs := bulk["errors"].([]any); len(errs) != 0 || len(items(bulk)) != 3 {
		t.Fatalf("bulk restart = %v", bulk)
	}
	for _, rc := range items(bulk) {
		if rc["roleRef"] == nil || rc["active"] != true {
			t.Errorf("role command = %v", rc)
		}
		if done := c.wait(rc); done["success"] != true {
			t.Errorf("role restart = %v", done)
		}
	}
	hdfs = c.ok("GET", svc, nil)
	if hdfs["configStale"] != false || hdfs["configStalenessStatus"] != "FRESH" {
		t.Errorf("HDFS-1 after its roles restarted: configStale %v, %v", hdfs["configStale"], hdfs["configStalenessStatus"])
	}

	// Conflicts and abort.
	for _, a := range c.agents {
		a.silent = true
	}
	stop := c.ok("POST", svc+"/commands/stop", nil)
	status, h, b := c.do("POST", svc+"/commands/start", "")
	capiError(t, status, h, b, http.StatusBadRequest, fmt.Sprintf("service 'HDFS-1' is busy with command Stop (id %v)", stop["id"]))
	status, h, b = c.do("DELETE", svc, "")
	capiError(t, status, h, b, http.StatusBadRequest, "busy with command Stop")
	// The agents are silent: nothing stops; the command waits for them.
	aborted := c.ok("POST", fmt.Sprintf("/api/v19/commands/%v/abort", stop["id"]), nil)
	if aborted["active"] != false || aborted["success"] != false || aborted["resultMessage"] != "Command aborted by admin." {
		t.Errorf("aborted command = %v", aborted)
	}
	status, h, b = c.do("POST", fmt.Sprintf("/api/v19/commands/%v/abort", stop["id"]), "")
	capiError(t, status, h, b, http.StatusBadRequest, fmt.Sprintf("command %v is not active", stop["id"]))
	for _, a := range c.agents {
		a.silent = false
	}
	if done := c.wait(c.ok("POST", capiCluster+"/commands/stop", nil)); done["success"] != true {
		t.Errorf("cluster stop = %v", done)
	}
	names := func(path string) []string {
		var out []string
		for _, it := range items(c.ok("GET", path, nil)) {
			out = append(out, fmt.Sprintf("%v %v", it["name"], it["serviceState"]))
		}
		sort.Strings(out)
		return out
	}
	if diff := cmp.Diff([]string{"HDFS-1 STOPPED", "SPARK-1 STOPPED"}, names(capiCluster+"/services")); diff != "" {
		t.Errorf("services after the stop (-want +got):\n%s", diff)
	}
}
