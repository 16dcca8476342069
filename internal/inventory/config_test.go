package inventory_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/inventory"
)

func set(name, value string) inventory.ConfigUpdate {
	return inventory.ConfigUpdate{Name: name, Value: &value}
}

func reset(name string) inventory.ConfigUpdate { return inventory.ConfigUpdate{Name: name} }

// setValues returns the set parameters of items as name=value.
func setValues(items []inventory.ConfigItem) map[string]string {
	out := map[string]string{}
	for _, it := range items {
		if it.Set {
			out[it.Param.Name] = it.Value
		}
	}
	return out
}

// TestUpdateConfig runs updates one after the other on a service and on a
// role config group: each either changes exactly what it says or, when
// one of its values is bad, nothing at all, with a message that names the
// parameter and says why.
func TestUpdateConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hdfs(1)
	service := func(ups ...inventory.ConfigUpdate) func() ([]inventory.ConfigItem, error) {
		return func() ([]inventory.ConfigItem, error) { return e.inv.UpdateServiceConfig(e.ctx, "c1", "HDFS-1", ups) }
	}
	group := func(ups ...inventory.ConfigUpdate) func() ([]inventory.ConfigItem, error) {
		return func() ([]inventory.ConfigItem, error) {
			return e.inv.UpdateGroupConfig(e.ctx, "c1", "HDFS-1", "HDFS-1-DATANODE-BASE", ups)
		}
	}
	tests := []struct {
		name   string
		update func() ([]inventory.ConfigItem, error)
		kind   apperr.Kind // when it must fail
		parts  []string    // of the message
		// service and group are the set values after the update.
		service, group map[string]string
		onGroup        bool // the update is of the group
	}{
		{name: "set int", update: service(set("dfs_replication", "2")),
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{}},
		{name: "int normalized", update: service(set("dfs_replication", " 02 ")),
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{}},
		{name: "int not a number", update: service(set("dfs_replication", "abc")),
			kind: apperr.Invalid, parts: []string{"invalid value for 'dfs_replication'", `"abc" is not an integer`},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{}},
		{name: "int below min", update: service(set("dfs_replication", "0")),
			kind: apperr.Invalid, parts: []string{"'dfs_replication'", "0 is below the minimum 1"},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{}},
		{name: "int above max", update: service(set("dfs_replication", "513")),
			kind: apperr.Invalid, parts: []string{"'dfs_replication'", "513 is above the maximum 512"},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{}},
		{name: "bool", update: service(set("dfs_permissions", "FALSE")),
			service: map[string]string{"dfs_replication": "2", "dfs_permissions": "false"}, group: map[string]string{}},
		{name: "bool not a bool", update: service(set("dfs_permissions", "maybe")),
			kind: apperr.Invalid, parts: []string{"'dfs_permissions'", `"maybe" is not a boolean`},
			service: map[string]string{"dfs_replication": "2", "dfs_permissions": "false"}, group: map[string]string{}},
		{name: "memory not bytes", update: service(set("dfs_block_size", "128m")),
			kind: apperr.Invalid, parts: []string{"'dfs_block_size'", `"128m" is not a size in bytes`},
			service: map[string]string{"dfs_replication": "2", "dfs_permissions": "false"}, group: map[string]string{}},
		{name: "memory below min", update: service(set("dfs_block_size", "1024")),
			kind: apperr.Invalid, parts: []string{"'dfs_block_size'", "1024 is below the minimum 1048576"},
			service: map[string]string{"dfs_replication": "2", "dfs_permissions": "false"}, group: map[string]string{}},
		{name: "unknown service parameter", update: service(set("dfs_data_dir_list", "/x")),
			kind: apperr.Invalid, parts: []string{"unknown configuration parameter 'dfs_data_dir_list' for service type HDFS"},
			service: map[string]string{"dfs_replication": "2", "dfs_permissions": "false"}, group: map[string]string{}},
		{name: "one bad value in a batch changes nothing", update: service(set("dfs_replication", "5"), reset("dfs_permissions"), set("dfs_block_size", "x")),
			kind: apperr.Invalid, parts: []string{"'dfs_block_size'"},
			service: map[string]string{"dfs_replication": "2", "dfs_permissions": "false"}, group: map[string]string{}},
		{name: "every problem of a batch is named", update: service(set("dfs_replication", "0"), set("nope", "1")),
			kind: apperr.Invalid, parts: []string{"'dfs_replication': 0 is below the minimum 1", "unknown configuration parameter 'nope'"},
			service: map[string]string{"dfs_replication": "2", "dfs_permissions": "false"}, group: map[string]string{}},
		{name: "null resets", update: service(reset("dfs_permissions"), reset("dfs_block_size")),
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{}},

		{onGroup: true, name: "group path list", update: group(set("dfs_data_dir_list", "/d1, d2"), set("process_auto_restart", "True")),
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{"dfs_data_dir_list": "/d1,d2", "process_auto_restart": "true"}},
		{onGroup: true, name: "group empty path list", update: group(set("dfs_data_dir_list", " , ")),
			kind: apperr.Invalid, parts: []string{"'dfs_data_dir_list'", "the list of paths is empty"},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{"dfs_data_dir_list": "/d1,d2", "process_auto_restart": "true"}},
		{onGroup: true, name: "group path with ..", update: group(set("dfs_data_dir_list", "/d1,/d2/../etc")),
			kind: apperr.Invalid, parts: []string{"'dfs_data_dir_list'", "'..'"},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{"dfs_data_dir_list": "/d1,d2", "process_auto_restart": "true"}},
		{onGroup: true, name: "group port out of range", update: group(set("dfs_datanode_port", "70000")),
			kind: apperr.Invalid, parts: []string{"'dfs_datanode_port'", "70000 is above the maximum 65535"},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{"dfs_data_dir_list": "/d1,d2", "process_auto_restart": "true"}},
		{onGroup: true, name: "group port zero", update: group(set("dfs_datanode_port", "0")),
			kind: apperr.Invalid, parts: []string{"'dfs_datanode_port'", "0 is below the minimum 1"},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{"dfs_data_dir_list": "/d1,d2", "process_auto_restart": "true"}},
		{onGroup: true, name: "group service parameter", update: group(set("dfs_replication", "1")),
			kind: apperr.Invalid, parts: []string{"unknown configuration parameter 'dfs_replication' for role type DATANODE"},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{"dfs_data_dir_list": "/d1,d2", "process_auto_restart": "true"}},
		{onGroup: true, name: "group batch with a bad value changes nothing", update: group(reset("dfs_data_dir_list"), set("datanode_java_heapsize", "64")),
			kind: apperr.Invalid, parts: []string{"'datanode_java_heapsize'", "64 is below the minimum 67108864"},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{"dfs_data_dir_list": "/d1,d2", "process_auto_restart": "true"}},
		{onGroup: true, name: "group batch with an unknown parameter changes nothing", update: group(reset("dfs_data_dir_list"), reset("never_set_but_unknown")),
			kind: apperr.Invalid, parts: []string{"unknown configuration parameter 'never_set_but_unknown'"},
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{"dfs_data_dir_list": "/d1,d2", "process_auto_restart": "true"}},
		{onGroup: true, name: "group reset all", update: group(reset("dfs_data_dir_list"), reset("process_auto_restart")),
			service: map[string]string{"dfs_replication": "2"}, group: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			items, err := tc.update()
			if tc.parts != nil {
				wantErr(t, err, tc.kind, tc.parts...)
			} else if err != nil {
				t.Fatal(err)
			}
			svc, err := e.inv.ServiceConfig(e.ctx, "c1", "HDFS-1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.service, setValues(svc)); diff != "" {
				t.Errorf("service config (-want +got):\n%s", diff)
			}
			grp, err := e.inv.GroupConfig(e.ctx, "c1", "HDFS-1", "HDFS-1-DATANODE-BASE")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.group, setValues(grp)); diff != "" {
				t.Errorf("group config (-want +got):\n%s", diff)
			}
			if tc.parts == nil {
				// The answer is the resulting configuration.
				want := tc.service
				if tc.onGroup {
					want = tc.group
				}
				if diff := cmp.Diff(want, setValues(items)); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestConfigListsEveryParameter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hdfs(1)
	e.must(e.inv.UpdateServiceConfig(e.ctx, "c1", "HDFS-1", []inventory.ConfigUpdate{set("dfs_replication", "1")}))
	items, err := e.inv.ServiceConfig(e.ctx, "c1", "HDFS-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range items {
		got = append(got, it.Param.Name+"="+it.Value+" default="+it.Param.Default)
	}
	want := []string{"core_site_safety_valve= default=", "dfs_block_size= default=134217728", "dfs_permissions= default=true",
		"dfs_replication=1 default=3", "hadoop_env_safety_valve= default=", "hdfs_service_config_safety_valve= default="}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("service config (-want +got):\n%s", diff)
	}
	items, err = e.inv.GroupConfig(e.ctx, "c1", "HDFS-1", "HDFS-1-NAMENODE-BASE")
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, it := range items {
		got = append(got, it.Param.Name)
	}
	want = []string{"dfs_http_port", "dfs_name_dir_list", "namenode_java_heapsize", "namenode_port", "process_auto_restart"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NameNode group parameters (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		name string
		err  error
		msg  string
	}{
		{"service", func() error { _, err := e.inv.ServiceConfig(e.ctx, "c1", "nope"); return err }(), "service 'nope' not found"},
		{"update service", func() error {
			_, err := e.inv.UpdateServiceConfig(e.ctx, "c1", "nope", []inventory.ConfigUpdate{set("dfs_replication", "1")})
			return err
		}(), "service 'nope' not found"},
		{"group", func() error { _, err := e.inv.GroupConfig(e.ctx, "c1", "HDFS-1", "nope"); return err }(), "role config group 'nope' not found"},
		{"update group", func() error {
			_, err := e.inv.UpdateGroupConfig(e.ctx, "c1", "HDFS-1", "nope", []inventory.ConfigUpdate{set("dfs_http_port", "1")})
			return err
		}(), "role config group 'nope' not found"},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, apperr.NotFound, tc.msg) })
	}
}

// TestConfigStale follows a change of configuration to the running roles
// it concerns: they are stale until they restart with it.
func TestConfigStale(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hdfs(2)
	e.must(e.inv.CreateRoles(e.ctx, "c1", "HDFS-1", []inventory.NewRole{{Name: "snn", Type: "SECONDARYNAMENODE", HostID: "h2"}}))
	e.mustSucceed(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStart))
	// The SecondaryNameNode is stopped: stopped roles are never stale.
	e.roleCommands("HDFS-1", inventory.OpStop, "snn")
	stale := func() []string {
		t.Helper()
		roles, err := e.inv.ListRoles(e.ctx, "c1", "HDFS-1")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range e.inv.RoleViews(e.ctx, roles) {
			if v.ConfigStale {
				out = append(out, v.Name)
			}
		}
		if svc := e.service("HDFS-1"); svc.ConfigStale != (len(out) > 0) {
			t.Errorf("service configStale = %v with stale roles %v", svc.ConfigStale, out)
		}
		return out
	}
	check := func(step string, want ...string) {
		t.Helper()
		if diff := cmp.Diff(want, stale()); diff != "" {
			t.Errorf("%s: stale roles (-want +got):\n%s", step, diff)
		}
	}
	check("after start")

	// A service parameter goes into every role's hdfs-site.xml.
	e.must(e.inv.UpdateServiceConfig(e.ctx, "c1", "HDFS-1", []inventory.ConfigUpdate{set("dfs_replication", "2")}))
	e.beat()
	check("after a service change", "dn1", "dn2", "nn")
	// Resetting to the value the roles run with makes them fresh again.
	e.must(e.inv.UpdateServiceConfig(e.ctx, "c1", "HDFS-1", []inventory.ConfigUpdate{reset("dfs_replication")}))
	check("after undoing it")

	// A DataNode parameter concerns the DataNodes only.
	e.must(e.inv.UpdateGroupConfig(e.ctx, "c1", "HDFS-1", "HDFS-1-DATANODE-BASE", []inventory.ConfigUpdate{set("dfs_datanode_data_dir_perm", "750")}))
	check("after a DataNode change", "dn1", "dn2")
	// Whether the agent restarts a process on failure is not in its files.
	e.must(e.inv.UpdateGroupConfig(e.ctx, "c1", "HDFS-1", "HDFS-1-NAMENODE-BASE", []inventory.ConfigUpdate{set("process_auto_restart", "true")}))
	check("after an auto-restart change", "dn1", "dn2")
	// The NameNode's port is in every role's files.
	e.must(e.inv.UpdateGroupConfig(e.ctx, "c1", "HDFS-1", "HDFS-1-NAMENODE-BASE", []inventory.ConfigUpdate{set("namenode_port", "8021")}))
	check("after a NameNode port change", "dn1", "dn2", "nn")

	e.roleCommands("HDFS-1", inventory.OpRestart, "dn1")
	check("after restarting dn1", "dn2", "nn")
	e.mustSucceed(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpRestart))
	check("after restarting the service")
}
