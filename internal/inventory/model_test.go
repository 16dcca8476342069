package inventory_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/inventory"
)

// snapshot lists the whole inventory as lines, to show that a refused
// change changed nothing.
func (e *env) snapshot() []string {
	e.t.Helper()
	var out []string
	hosts, err := e.inv.ListHosts(e.ctx, "")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, h := range hosts {
		out = append(out, fmt.Sprintf("host %s %s %s cluster=%s", h.ID, h.Hostname, h.Address, h.Cluster))
	}
	clusters, err := e.inv.ListClusters(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range clusters {
		out = append(out, fmt.Sprintf("cluster %s %s %s", c.Name, c.Version, c.FullVersion))
		services, err := e.inv.ListServices(e.ctx, c.Name)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, s := range services {
			out = append(out, fmt.Sprintf("service %s/%s %s config=%v", c.Name, s.Name, s.Type, s.Config))
			roles, err := e.inv.ListRoles(e.ctx, c.Name, s.Name)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, r := range roles {
				out = append(out, fmt.Sprintf("role %s %s on %s group %s desired %s", r.Name, r.Type, r.HostID, r.Group, r.Desired))
			}
			groups, err := e.inv.ListGroups(e.ctx, c.Name, s.Name)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, g := range groups {
				out = append(out, fmt.Sprintf("group %s %s base=%v config=%v", g.Name, g.RoleType, g.Base, g.Config))
			}
		}
	}
	return out
}

// TestRefusedChanges tries changes the inventory must refuse, each with a
// message that says what and why, and checks that none changed anything.
func TestRefusedChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("h1", "127.0.1.1")
	e.register("h2", "127.0.1.2")
	e.register("h3", "127.0.1.3")
	e.must(e.inv.CreateHost(e.ctx, "h4", "", "10.0.0.4", ""))
	e.must(e.inv.CreateCluster(e.ctx, "c1", "", "CDH5", ""))
	e.must(e.inv.CreateCluster(e.ctx, "c2", "", "", "6.3.2"))
	e.must(e.inv.AddHosts(e.ctx, "c1", []string{"h1", "h2"}))
	e.must(e.inv.AddHosts(e.ctx, "c2", []string{"h4"}))
	e.must(e.inv.CreateService(e.ctx, "c1", "HDFS-1", "HDFS", ""))
	e.must(e.inv.CreateService(e.ctx, "c1", "SPARK-1", "SPARK", ""))
	e.must(e.inv.CreateRoles(e.ctx, "c1", "HDFS-1", []inventory.NewRole{
		{Name: "nn", Type: "NAMENODE", HostID: "h1"}, {Name: "dn1", Type: "DATANODE", HostID: "h1"}}))
	e.must(e.inv.CreateRoles(e.ctx, "c1", "SPARK-1", []inventory.NewRole{{Name: "master", Type: "MASTER", HostID: "h1"}}))
	before := e.snapshot()

	ctx := e.ctx
	inv := e.inv
	roles := func(rs ...inventory.NewRole) func() error {
		return func() error { _, err := inv.CreateRoles(ctx, "c1", "HDFS-1", rs); return err }
	}
	tests := []struct {
		name  string
		do    func() error
		kind  apperr.Kind
		parts []string
	}{
		{"cluster without name", func() error { _, err := inv.CreateCluster(ctx, " ", "", "", ""); return err },
			apperr.Invalid, []string{"cluster name", "empty"}},
		{"cluster with slash", func() error { _, err := inv.CreateCluster(ctx, "a/b", "", "", ""); return err },
			apperr.Invalid, []string{`"a/b"`, "'/'"}},
		{"duplicate cluster", func() error { _, err := inv.CreateCluster(ctx, "c1", "", "", ""); return err },
			apperr.Conflict, []string{`cluster "c1" already exists`}},
		{"unknown cluster version", func() error { _, err := inv.CreateCluster(ctx, "c3", "", "CDH9", ""); return err },
			apperr.Invalid, []string{`version "CDH9"`, "CDH5"}},
		{"unknown cluster version with full version", func() error { _, err := inv.CreateCluster(ctx, "c3", "", "CDH9", "9.0.0"); return err },
			apperr.Invalid, []string{`version "CDH9"`, "CDH5"}},
		{"cluster versions disagree", func() error { _, err := inv.CreateCluster(ctx, "c3", "", "CDH5", "6.3.2"); return err },
			apperr.Invalid, []string{`"6.3.2"`, "CDH5"}},
		{"unknown full version", func() error { _, err := inv.CreateCluster(ctx, "c3", "", "", "12.1"); return err },
			apperr.Invalid, []string{`fullVersion "12.1"`}},
		{"host with bad id", func() error { _, err := inv.CreateHost(ctx, "h 5", "", "", ""); return err },
			apperr.Invalid, []string{`hostId "h 5"`}},
		{"host with bad address", func() error { _, err := inv.CreateHost(ctx, "h5", "", "10.0.0", ""); return err },
			apperr.Invalid, []string{`ipAddress "10.0.0" is not an IP address`}},
		{"duplicate host", func() error { _, err := inv.CreateHost(ctx, "h1", "", "", ""); return err },
			apperr.Conflict, []string{`host "h1" already exists`}},
		{"unknown service type", func() error { _, err := inv.CreateService(ctx, "c1", "HBASE-1", "HBASE", ""); return err },
			apperr.Invalid, []string{"unknown service type 'HBASE'", "HDFS, SPARK"}},
		{"service in missing cluster", func() error { _, err := inv.CreateService(ctx, "nope", "HDFS-2", "HDFS", ""); return err },
			apperr.NotFound, []string{"cluster 'nope' not found"}},
		{"service with bad name", func() error { _, err := inv.CreateService(ctx, "c1", "HDFS 2", "HDFS", ""); return err },
			apperr.Invalid, []string{`service name "HDFS 2"`}},
		{"duplicate service", func() error { _, err := inv.CreateService(ctx, "c1", "HDFS-1", "HDFS", ""); return err },
			apperr.Conflict, []string{"service 'HDFS-1' already exists in cluster 'c1'"}},
		{"no roles", roles(), apperr.Invalid, []string{"no roles given"}},
		{"unknown role type", roles(inventory.NewRole{Type: "JOURNALNODE", HostID: "h1"}),
			apperr.Invalid, []string{"unknown role type 'JOURNALNODE' for service type HDFS", "DATANODE, NAMENODE, SECONDARYNAMENODE"}},
		{"role type of another service type", roles(inventory.NewRole{Type: "MASTER", HostID: "h1"}),
			apperr.Invalid, []string{"unknown role type 'MASTER'"}},
		{"role on host outside the cluster", roles(inventory.NewRole{Name: "dn3", Type: "DATANODE", HostID: "h3"}),
			apperr.Invalid, []string{"host 'h3' is not in cluster 'c1'", "add it to the cluster first"}},
		{"role on host of another cluster", roles(inventory.NewRole{Name: "dn4", Type: "DATANODE", HostID: "h4"}),
			apperr.Invalid, []string{"host 'h4' is not in cluster 'c1'"}},
		{"role on unknown host", roles(inventory.NewRole{Name: "dn9", Type: "DATANODE", HostID: "h9"}),
			apperr.NotFound, []string{"host 'h9' not found"}},
		{"role without host", roles(inventory.NewRole{Name: "dn9", Type: "DATANODE"}),
			apperr.Invalid, []string{"role dn9 needs hostRef.hostId"}},
		{"second NameNode", roles(inventory.NewRole{Name: "nn2", Type: "NAMENODE", HostID: "h2"}),
			apperr.Invalid, []string{"service 'HDFS-1' can have at most 1 NAMENODE role(s)"}},
		{"two SecondaryNameNodes in one batch", roles(inventory.NewRole{Name: "snn1", Type: "SECONDARYNAMENODE", HostID: "h1"},
			inventory.NewRole{Name: "snn2", Type: "SECONDARYNAMENODE", HostID: "h2"}),
			apperr.Invalid, []string{"at most 1 SECONDARYNAMENODE"}},
		{"batch with one bad role", roles(inventory.NewRole{Name: "dn2", Type: "DATANODE", HostID: "h2"},
			inventory.NewRole{Name: "dn3", Type: "DATANODE", HostID: "h3"}),
			apperr.Invalid, []string{"host 'h3' is not in cluster 'c1'"}},
		{"duplicate role name across services", roles(inventory.NewRole{Name: "master", Type: "DATANODE", HostID: "h2"}),
			apperr.Conflict, []string{"role 'master' already exists"}},
		{"duplicate role name in one batch", roles(inventory.NewRole{Name: "dn2", Type: "DATANODE", HostID: "h2"},
			inventory.NewRole{Name: "dn2", Type: "DATANODE", HostID: "h1"}),
			apperr.Conflict, []string{"role 'dn2' already exists"}},
		{"role with bad name", roles(inventory.NewRole{Name: "dn/2", Type: "DATANODE", HostID: "h2"}),
			apperr.Invalid, []string{`role name "dn/2"`}},
		{"role in group of another type", roles(inventory.NewRole{Name: "dn2", Type: "DATANODE", HostID: "h2", Group: "HDFS-1-NAMENODE-BASE"}),
			apperr.Invalid, []string{"role config group 'HDFS-1-NAMENODE-BASE' is for NAMENODE roles, not DATANODE"}},
		{"role in missing group", roles(inventory.NewRole{Name: "dn2", Type: "DATANODE", HostID: "h2", Group: "nope"}),
			apperr.NotFound, []string{"role config group 'nope' not found"}},
		{"roles of missing service", func() error {
			_, err := inv.CreateRoles(ctx, "c1", "nope", []inventory.NewRole{{Type: "DATANODE", HostID: "h1"}})
			return err
		}, apperr.NotFound, []string{"service 'nope' not found in cluster 'c1'"}},
		{"add no hosts", func() error { _, err := inv.AddHosts(ctx, "c1", nil); return err },
			apperr.Invalid, []string{"no hosts given"}},
		{"add unknown host", func() error { _, err := inv.AddHosts(ctx, "c1", []string{"h3", "h9"}); return err },
			apperr.NotFound, []string{"host 'h9' not found"}},
		{"add host of another cluster", func() error { _, err := inv.AddHosts(ctx, "c1", []string{"h3", "h4"}); return err },
			apperr.Invalid, []string{"host 'h4' already belongs to cluster 'c2'"}},
		{"add host to missing cluster", func() error { _, err := inv.AddHosts(ctx, "nope", []string{"h3"}); return err },
			apperr.NotFound, []string{"cluster 'nope' not found"}},
		{"remove host with roles", func() error { return inv.RemoveHost(ctx, "c1", "h1") },
			apperr.Invalid, []string{"host 'h1' still has roles of cluster 'c1'", "delete them first"}},
		{"remove host of another cluster", func() error { return inv.RemoveHost(ctx, "c1", "h4") },
			apperr.NotFound, []string{"host 'h4' is not in cluster 'c1'"}},
		{"delete host with roles", func() error { _, err := inv.DeleteHost(ctx, "h1"); return err },
			apperr.Invalid, []string{"host 'h1' still has 3 roles"}},
		{"delete missing host", func() error { _, err := inv.DeleteHost(ctx, "h9"); return err },
			apperr.NotFound, []string{"host 'h9' not found"}},
		{"delete missing cluster", func() error { _, err := inv.DeleteCluster(ctx, "nope"); return err },
			apperr.NotFound, []string{"cluster 'nope' not found"}},
		{"delete missing service", func() error { _, err := inv.DeleteService(ctx, "c1", "nope"); return err },
			apperr.NotFound, []string{"service 'nope' not found in cluster 'c1'"}},
		{"delete role of another service", func() error { _, err := inv.DeleteRole(ctx, "c1", "SPARK-1", "nn"); return err },
			apperr.NotFound, []string{"role 'nn' not found in service 'SPARK-1'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.do(), tc.kind, tc.parts...)
			if diff := cmp.Diff(before, e.snapshot()); diff != "" {
				t.Fatalf("the inventory changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestCreateAndList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.register("h1", "127.0.1.1")
	h, err := e.inv.CreateHost(e.ctx, "h2", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if h.Hostname != "h2" || h.Rack != "/default" || h.Registered || h.Health.Summary != inventory.HealthBad {
		t.Errorf("host created through the API = %+v", h)
	}
	for _, tc := range []struct{ version, full, wantVersion, wantFull string }{
		{"", "", "CDH5", "5.16.2"},
		{"CDH6", "", "CDH6", "6.3.2"},
		{"", "7.1.9", "CDH7", "7.1.9"},
		{"CDH5", "5.14.4", "CDH5", "5.14.4"},
	} {
		name := "c-" + tc.wantVersion + "-" + tc.wantFull
		c, err := e.inv.CreateCluster(e.ctx, name, "", tc.version, tc.full)
		if err != nil {
			t.Fatalf("CreateCluster(%q, %q): %v", tc.version, tc.full, err)
		}
		if c.Version != tc.wantVersion || c.FullVersion != tc.wantFull || c.DisplayName != name || c.UUID == "" {
			t.Errorf("CreateCluster(%q, %q) = %+v", tc.version, tc.full, c)
		}
	}
	e.must(e.inv.CreateCluster(e.ctx, "c1", "Cluster One", "", ""))
	e.must(e.inv.AddHosts(e.ctx, "c1", []string{"h1", "h2"}))
	// Adding a host again is harmless.
	e.must(e.inv.AddHosts(e.ctx, "c1", []string{"h1"}))
	svc, err := e.inv.CreateService(e.ctx, "c1", "HDFS-1", "HDFS", "")
	if err != nil {
		t.Fatal(err)
	}
	if svc.DisplayName != "HDFS-1" || len(svc.Config) != 0 {
		t.Errorf("service = %+v", svc)
	}
	groups, err := e.inv.ListGroups(e.ctx, "c1", "HDFS-1")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups {
		if !g.Base {
			t.Errorf("group %s is not a base group", g.Name)
		}
		names = append(names, g.Name+":"+g.RoleType)
	}
	if diff := cmp.Diff([]string{"HDFS-1-DATANODE-BASE:DATANODE", "HDFS-1-NAMENODE-BASE:NAMENODE", "HDFS-1-SECONDARYNAMENODE-BASE:SECONDARYNAMENODE"}, names); diff != "" {
		t.Errorf("base groups (-want +got):\n%s", diff)
	}
	rows, err := e.inv.CreateRoles(e.ctx, "c1", "HDFS-1", []inventory.NewRole{{Type: "NAMENODE", HostID: "h1"}, {Name: "dn2", Type: "DATANODE", HostID: "h2"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rows[0].Name, "HDFS-1-NAMENODE-") || len(rows[0].Name) != len("HDFS-1-NAMENODE-")+32 {
		t.Errorf("generated role name %q is not HDFS-1-NAMENODE-<32 hex>", rows[0].Name)
	}
	for _, r := range rows {
		if r.Desired != inventory.RoleStopped || r.CommissionState != "COMMISSIONED" || r.Group != "HDFS-1-"+r.Type+"-BASE" {
			t.Errorf("new role = %+v", r)
		}
	}
	hosts, err := e.inv.ListHosts(e.ctx, "c1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hosts {
		got = append(got, fmt.Sprintf("%s roles=%d live=%v", h.ID, len(h.Roles), h.Live))
	}
	if diff := cmp.Diff([]string{"h1 roles=1 live=true", "h2 roles=1 live=false"}, got); diff != "" {
		t.Errorf("hosts of c1 (-want +got):\n%s", diff)
	}
	// An agent registering with the id of a host created through the API
	// takes it over.
	e.register("h2", "127.0.1.2")
	h, err = e.inv.GetHost(e.ctx, "h2")
	if err != nil {
		t.Fatal(err)
	}
	if !h.Registered || !h.Live || h.Address != "127.0.1.2" || h.Cluster != "c1" || h.Cores != 4 {
		t.Errorf("host after its agent registered = %+v", h)
	}
}

// TestDeleteRefusedWhileRunning checks that roles that run, or should,
// keep their role, service, cluster and host from being deleted.
func TestDeleteRefusedWhileRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	agents := e.hdfs(2)
	e.mustSucceed(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStart))
	before := e.snapshot()
	for _, tc := range []struct {
		name  string
		do    func() error
		parts []string
	}{
		{"role", func() error { _, err := e.inv.DeleteRole(e.ctx, "c1", "HDFS-1", "dn2"); return err },
			[]string{"cannot delete role 'dn2'", "roles dn2 are not stopped", "stop them first"}},
		{"service", func() error { _, err := e.inv.DeleteService(e.ctx, "c1", "HDFS-1"); return err },
			[]string{"cannot delete service 'HDFS-1'", "dn1, dn2, nn"}},
		{"cluster", func() error { _, err := e.inv.DeleteCluster(e.ctx, "c1"); return err },
			[]string{"cannot delete cluster 'c1'", "dn1, dn2, nn"}},
		{"host", func() error { _, err := e.inv.DeleteHost(e.ctx, "h2"); return err },
			[]string{"host 'h2' still has 1 roles"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.do(), apperr.Invalid, tc.parts...)
			if diff := cmp.Diff(before, e.snapshot()); diff != "" {
				t.Fatalf("the inventory changed (-before +after):\n%s", diff)
			}
		})
	}

	e.mustSucceed(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStop))
	// A role desired stopped whose process still runs (its agent has not
	// stopped it yet) is not deleted either.
	if _, err := e.inv.Heartbeat(e.ctx, "h2", agentapi.Heartbeat{Facts: facts("h2"), Roles: []agentapi.RoleStatus{
		{Name: "dn2", State: agentapi.StateRunning, Pid: 7, StartSeq: 1}}}); err != nil {
		t.Fatal(err)
	}
	_, err := e.inv.DeleteRole(e.ctx, "c1", "HDFS-1", "dn2")
	wantErr(t, err, apperr.Invalid, "roles dn2 are not stopped")
	agents[1].beat()

	if _, err := e.inv.DeleteRole(e.ctx, "c1", "HDFS-1", "dn2"); err != nil {
		t.Fatalf("delete stopped role: %v", err)
	}
	if err := e.inv.RemoveHost(e.ctx, "c1", "h2"); err != nil {
		t.Fatalf("remove host without roles: %v", err)
	}
	if _, err := e.inv.DeleteService(e.ctx, "c1", "HDFS-1"); err != nil {
		t.Fatalf("delete stopped service: %v", err)
	}
	if _, err := e.inv.ListGroups(e.ctx, "c1", "HDFS-1"); apperr.KindOf(err) != apperr.NotFound {
		t.Errorf("groups of a deleted service: %v", err)
	}
	if _, err := e.inv.DeleteCluster(e.ctx, "c1"); err != nil {
		t.Fatalf("delete cluster: %v", err)
	}
	hosts, err := e.inv.ListHosts(e.ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var clusters []string
	for _, h := range hosts {
		clusters = append(clusters, h.ID+":"+h.Cluster)
	}
	sort.Strings(clusters)
	if diff := cmp.Diff([]string{"h1:", "h2:"}, clusters); diff != "" {
		t.Errorf("hosts after their cluster went (-want +got):\n%s", diff)
	}
	if _, err := e.inv.DeleteHost(e.ctx, "h2"); err != nil {
		t.Fatalf("delete host: %v", err)
	}
	// The deleted host's agent is not admitted any more.
	if _, err := e.inv.AuthenticateAgent(e.ctx, "h2:whatever"); apperr.KindOf(err) != apperr.Unauthenticated {
		t.Errorf("agent of a deleted host: %v", err)
	}
}
