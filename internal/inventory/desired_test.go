package inventory_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/inventory"
)

func (e *env) desired(host string) agentapi.Desired {
	e.t.Helper()
	d, err := e.inv.Desired(e.ctx, host)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

func specOf(d agentapi.Desired, role string) (agentapi.RoleSpec, bool) {
	for _, s := range d.Roles {
		if s.Name == role {
			return s, true
		}
	}
	return agentapi.RoleSpec{}, false
}

func fileOf(s agentapi.RoleSpec, path string) string {
	for _, f := range s.Files {
		if f.Path == path {
			return f.Content
		}
	}
	return ""
}

func roleNames(d agentapi.Desired) []string {
	var out []string
	for _, s := range d.Roles {
		out = append(out, s.Name)
	}
	return out
}

func TestDesired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hdfs(2)
	d1 := e.desired("h1")
	if diff := cmp.Diff([]string{"dn1", "nn"}, roleNames(d1)); diff != "" {
		t.Fatalf("roles of h1 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"dn2"}, roleNames(e.desired("h2"))); diff != "" {
		t.Fatalf("roles of h2 (-want +got):\n%s", diff)
	}
	if d := e.desired("h9"); len(d.Roles) != 0 || d.Hash == "" {
		t.Errorf("desired state of a host without roles = %+v", d)
	}
	nn, _ := specOf(d1, "nn")
	if nn.Run || nn.StartSeq != 0 || nn.Type != "NAMENODE" || nn.Service != "HDFS-1" || nn.Launch.Runtime != agentapi.RuntimeHadoop || nn.ConfigHash == "" {
		t.Errorf("NameNode spec = %+v", nn)
	}
	if nn.Init == nil || nn.Init.Creates != "/data/h1/dfs/nn/current/VERSION" {
		t.Errorf("NameNode init = %+v", nn.Init)
	}
	site := fileOf(nn, "hdfs-site.xml")
	for _, want := range []string{"<name>dfs.replication</name>", "<value>3</value>", "127.0.1.1:8020"} {
		if !strings.Contains(site, want) {
			t.Errorf("hdfs-site.xml of the NameNode lacks %q:\n%s", want, site)
		}
	}
	if again := e.desired("h1"); again.Hash != d1.Hash {
		t.Errorf("hash changed without a change: %s, then %s", d1.Hash, again.Hash)
	}
	// A write that does not concern the host's roles renders the same.
	e.must(e.inv.CreateService(e.ctx, "c1", "SPARK-1", "SPARK", ""))
	if again := e.desired("h1"); again.Hash != d1.Hash {
		t.Errorf("hash changed with an unrelated change: %s, then %s", d1.Hash, again.Hash)
	}

	e.must(e.inv.UpdateServiceConfig(e.ctx, "c1", "HDFS-1", []inventory.ConfigUpdate{set("dfs_replication", "2")}))
	d2 := e.desired("h1")
	nn2, _ := specOf(d2, "nn")
	if d2.Hash == d1.Hash || nn2.ConfigHash == nn.ConfigHash {
		t.Errorf("a configuration change left the hashes as they were: %s, %s", d2.Hash, nn2.ConfigHash)
	}
	if site := fileOf(nn2, "hdfs-site.xml"); !strings.Contains(site, "<value>2</value>") {
		t.Errorf("hdfs-site.xml after dfs_replication=2:\n%s", site)
	}
	// Auto-restart changes the spec, not the configuration hash.
	e.must(e.inv.UpdateGroupConfig(e.ctx, "c1", "HDFS-1", "HDFS-1-NAMENODE-BASE", []inventory.ConfigUpdate{set("process_auto_restart", "true")}))
	d3 := e.desired("h1")
	nn3, _ := specOf(d3, "nn")
	if d3.Hash == d2.Hash || nn3.ConfigHash != nn2.ConfigHash || !nn3.AutoRestart {
		t.Errorf("after process_auto_restart=true: hash %s (was %s), config hash %s (was %s), autoRestart %v",
			d3.Hash, d2.Hash, nn3.ConfigHash, nn2.ConfigHash, nn3.AutoRestart)
	}

	// A start sets Run and counts StartSeq up.
	e.mustSucceed(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStart))
	nn4, _ := specOf(e.desired("h1"), "nn")
	if !nn4.Run || nn4.StartSeq != 1 {
		t.Errorf("NameNode after a start: run %v, startSeq %d", nn4.Run, nn4.StartSeq)
	}
}

// TestDesiredKeepsLastGoodSpec checks that a role that cannot be rendered
// any more keeps the spec it last rendered to, so that its process is not
// stopped by the error, and that one that never rendered is left out.
func TestDesiredKeepsLastGoodSpec(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hdfs(2)
	e.mustSucceed(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStart))
	before, ok := specOf(e.desired("h2"), "dn2")
	if !ok || !before.Run {
		t.Fatalf("dn2 = %+v", before)
	}
	e.roleCommands("HDFS-1", inventory.OpStop, "nn")
	if _, err := e.inv.DeleteRole(e.ctx, "c1", "HDFS-1", "nn"); err != nil {
		t.Fatal(err)
	}
	// The DataNodes' files name the NameNode, so they cannot render now.
	after, ok := specOf(e.desired("h2"), "dn2")
	if !ok {
		t.Fatalf("dn2 left the desired state of h2: %v", roleNames(e.desired("h2")))
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("dn2's spec changed (-before +after):\n%s", diff)
	}
	// Its run state still follows the inventory.
	e.roleCommands("HDFS-1", inventory.OpStop, "dn2")
	if after, _ := specOf(e.desired("h2"), "dn2"); after.Run || after.ConfigHash != before.ConfigHash {
		t.Errorf("dn2 after a stop: run %v, config hash %s (was %s)", after.Run, after.ConfigHash, before.ConfigHash)
	}
	// A role that never rendered is left out, and cannot start.
	e.must(e.inv.CreateRoles(e.ctx, "c1", "HDFS-1", []inventory.NewRole{{Name: "dn3", Type: "DATANODE", HostID: "h2"}}))
	if diff := cmp.Diff([]string{"dn2"}, roleNames(e.desired("h2"))); diff != "" {
		t.Errorf("roles of h2 (-want +got):\n%s", diff)
	}
	cmds, errs, err := e.inv.RoleCommands(e.ctx, "c1", "HDFS-1", inventory.OpStart, []string{"dn3"})
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	c := e.drive(cmds[0].ID)
	if c.Success == nil || *c.Success || !strings.Contains(c.ResultMessage, "cannot start") || !strings.Contains(c.ResultMessage, "has no NAMENODE role") {
		t.Errorf("start of a role that cannot render: success %v, %q", c.Success, c.ResultMessage)
	}

	// Deleted roles do not leave their spec to a new role of the same name.
	e.roleCommands("HDFS-1", inventory.OpStop, "dn1")
	if _, err := e.inv.DeleteService(e.ctx, "c1", "HDFS-1"); err != nil {
		t.Fatal(err)
	}
	e.must(e.inv.CreateService(e.ctx, "c1", "HDFS-1", "HDFS", ""))
	e.must(e.inv.CreateRoles(e.ctx, "c1", "HDFS-1", []inventory.NewRole{{Name: "dn2", Type: "DATANODE", HostID: "h2"}}))
	if names := roleNames(e.desired("h2")); len(names) != 0 {
		t.Errorf("a new role that cannot render has a spec: %v", names)
	}
}
