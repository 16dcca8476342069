package inventory_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/inventory"
	"github.com/herdhq/herd/internal/store"
)

// summary describes a command and its children in one line each: name,
// role, outcome.
func summary(c inventory.Command) []string {
	line := func(r store.CommandRow) string {
		s := r.Name
		if r.Role != "" {
			s += " " + r.Role
		} else if r.Service != "" {
			s += " " + r.Service
		}
		switch {
		case r.Active:
			s += " active"
		case r.Success != nil && *r.Success:
			s += " ok"
		default:
			s += " failed"
		}
		return s
	}
	out := []string{line(c.CommandRow)}
	for _, k := range c.Children {
		out = append(out, "  "+line(k))
	}
	return out
}

// sortDataNodes sorts each run of lines on DataNodes, which a command
// handles at once.
func sortDataNodes(lines []string) []string {
	isDN := func(l string) bool { return strings.Contains(l, " dn") }
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && isDN(lines[j]) {
			j++
		}
		if j > i {
			sort.Strings(lines[i:j])
			i = j
		} else {
			i++
		}
	}
	return lines
}

func (e *env) roleStates(service string) []string {
	e.t.Helper()
	roles, err := e.inv.ListRoles(e.ctx, "c1", service)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, v := range e.inv.RoleViews(e.ctx, roles) {
		out = append(out, fmt.Sprintf("%s %s desired=%s seq=%d", v.Name, v.State, v.Desired, v.StartSeq))
	}
	return out
}

func TestServiceCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hdfs(2)
	e.must(e.inv.CreateRoles(e.ctx, "c1", "HDFS-1", []inventory.NewRole{{Name: "snn", Type: "SECONDARYNAMENODE", HostID: "h2"}}))
	steps := []struct {
		op      string
		command []string // the command and its children, in order
		roles   []string
		state   string // the service's
	}{
		{inventory.OpStart,
			[]string{"Start HDFS-1 ok", "  Start nn ok", "  Start dn1 ok", "  Start dn2 ok", "  Start snn ok"},
			[]string{"dn1 STARTED desired=STARTED seq=1", "dn2 STARTED desired=STARTED seq=1", "nn STARTED desired=STARTED seq=1", "snn STARTED desired=STARTED seq=1"},
			inventory.StateStarted},
		{inventory.OpRestart,
			[]string{"Restart HDFS-1 ok", "  Stop snn ok", "  Stop dn1 ok", "  Stop dn2 ok", "  Stop nn ok",
				"  Start nn ok", "  Start dn1 ok", "  Start dn2 ok", "  Start snn ok"},
			[]string{"dn1 STARTED desired=STARTED seq=2", "dn2 STARTED desired=STARTED seq=2", "nn STARTED desired=STARTED seq=2", "snn STARTED desired=STARTED seq=2"},
			inventory.StateStarted},
		{inventory.OpStop,
			[]string{"Stop HDFS-1 ok", "  Stop snn ok", "  Stop dn1 ok", "  Stop dn2 ok", "  Stop nn ok"},
			[]string{"dn1 STOPPED desired=STOPPED seq=2", "dn2 STOPPED desired=STOPPED seq=2", "nn STOPPED desired=STOPPED seq=2", "snn STOPPED desired=STOPPED seq=2"},
			inventory.StateStopped},
	}
	for _, st := range steps {
		t.Run(st.op, func(t *testing.T) {
			e.clock.Advance(time.Second)
			c, err := e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", st.op)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Active || c.ID == 0 || c.Cluster != "c1" || c.Service != "HDFS-1" || !c.StartedAt.Equal(e.clock.Now()) || c.Success != nil {
				t.Errorf("new command = %+v", c.CommandRow)
			}
			// It is persisted at once.
			if got, err := e.inv.GetCommand(e.ctx, c.ID); err != nil || got.Name != c.Name {
				t.Errorf("GetCommand(%d) = %+v, %v", c.ID, got, err)
			}
			done := e.drive(c.ID)
			// Roles of one type go at once, in any order.
			got := sortDataNodes(summary(done))
			if diff := cmp.Diff(st.command, got); diff != "" {
				t.Errorf("command (-want +got):\n%s", diff)
			}
			if done.ResultMessage != "Command completed." || done.EndedAt.IsZero() {
				t.Errorf("ended command = %+v", done.CommandRow)
			}
			for _, k := range done.Children {
				if k.ParentID != c.ID || k.Cluster != "c1" || k.Service != "HDFS-1" || k.HostID == "" {
					t.Errorf("child = %+v", k)
				}
			}
			if diff := cmp.Diff(st.roles, e.roleStates("HDFS-1")); diff != "" {
				t.Errorf("roles (-want +got):\n%s", diff)
			}
			if s := e.service("HDFS-1"); s.State != st.state {
				t.Errorf("service state = %s, want %s", s.State, st.state)
			}
		})
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.hdfs(1)
	e.must(e.inv.CreateService(e.ctx, "c1", "SPARK-1", "SPARK", ""))
	for _, tc := range []struct {
		name  string
		do    func() error
		kind  apperr.Kind
		parts []string
	}{
		{"missing cluster", func() error { _, err := e.inv.ClusterCommand(e.ctx, "nope", inventory.OpStart); return err },
			apperr.NotFound, []string{"cluster 'nope' not found"}},
		{"missing service", func() error { _, err := e.inv.ServiceCommand(e.ctx, "c1", "nope", inventory.OpStart); return err },
			apperr.NotFound, []string{"service 'nope' not found in cluster 'c1'"}},
		{"service in missing cluster", func() error { _, err := e.inv.ServiceCommand(e.ctx, "nope", "HDFS-1", inventory.OpStart); return err },
			apperr.NotFound, []string{"cluster 'nope' not found"}},
		{"unknown service command", func() error { _, err := e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", "format"); return err },
			apperr.NotFound, []string{"unknown service command 'format'"}},
		{"unknown cluster command", func() error { _, err := e.inv.ClusterCommand(e.ctx, "c1", "upgrade"); return err },
			apperr.NotFound, []string{"unknown cluster command 'upgrade'"}},
		{"role command without roles", func() error {
			_, _, err := e.inv.RoleCommands(e.ctx, "c1", "HDFS-1", inventory.OpStart, nil)
			return err
		},
			apperr.Invalid, []string{"no role names given"}},
		{"role command of missing service", func() error {
			_, _, err := e.inv.RoleCommands(e.ctx, "c1", "nope", inventory.OpStart, []string{"nn"})
			return err
		}, apperr.NotFound, []string{"service 'nope' not found"}},
		{"missing command", func() error { _, err := e.inv.GetCommand(e.ctx, 999); return err },
			apperr.NotFound, []string{"command 999 not found"}},
		{"abort missing command", func() error { _, err := e.inv.AbortCommand(e.ctx, 999, "alice"); return err },
			apperr.NotFound, []string{"command 999 not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.do(), tc.kind, tc.parts...) })
	}

	// Unknown role names are reported one by one; known ones run.
	cmds, errs, err := e.inv.RoleCommands(e.ctx, "c1", "HDFS-1", inventory.OpStart, []string{"nn", "NOPE"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Role 'NOPE' does not exist in service 'HDFS-1'."}, errs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if len(cmds) != 1 || cmds[0].Role != "nn" || cmds[0].Name != "Start" {
		t.Fatalf("commands = %+v", cmds)
	}
	e.mustSucceed(cmds[0], nil)
	// A service without roles has nothing to start: that fails.
	c := e.drive(must(e.inv.ServiceCommand(e.ctx, "c1", "SPARK-1", inventory.OpStart)).ID)
	if c.Success == nil || *c.Success || c.ResultMessage != "service SPARK-1 has no roles" {
		t.Errorf("start of a service without roles = %+v", c.CommandRow)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestCommandFailures checks the messages of commands that fail.
func TestCommandFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	agents := e.hdfs(2)
	agents[1].mutate["dn2"] = failed("java.net.BindException: Address already in use")
	c := e.drive(must(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStart)).ID)
	if diff := cmp.Diff([]string{"Start HDFS-1 failed", "  Start nn ok", "  Start dn1 ok", "  Start dn2 failed"}, sortDataNodes(summary(c))); diff != "" {
		t.Errorf("command (-want +got):\n%s", diff)
	}
	const why = "the process failed with exit code 1: java.net.BindException: Address already in use"
	if c.ResultMessage != "dn2: "+why {
		t.Errorf("message %q, want %q", c.ResultMessage, "dn2: "+why)
	}
	for _, k := range c.Children {
		if k.Role == "dn2" && k.ResultMessage != why {
			t.Errorf("message of the child on dn2: %q, want %q", k.ResultMessage, why)
		}
	}
	if v := e.role("HDFS-1", "dn2"); v.State != inventory.StateStopped || v.Health.Summary != inventory.HealthBad {
		t.Errorf("dn2 = %s %s %v", v.State, v.Health.Summary, checkNames(v.Health))
	}
	delete(agents[1].mutate, "dn2")

	// A host whose agent went silent fails the roles there at once.
	agents[1].silent = true
	e.clock.Advance(ttl + time.Second)
	e.beat()
	c = e.drive(must(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpRestart)).ID)
	if !strings.Contains(c.ResultMessage, "host h2's agent has not sent a heartbeat since 2026-01-02T03:04:05Z") {
		t.Errorf("restart with a silent host: %q", c.ResultMessage)
	}
	// A host created through the API whose agent never came.
	e.must(e.inv.CreateHost(e.ctx, "h3", "", "10.0.0.3", ""))
	e.must(e.inv.AddHosts(e.ctx, "c1", []string{"h3"}))
	e.must(e.inv.CreateRoles(e.ctx, "c1", "HDFS-1", []inventory.NewRole{{Name: "dn3", Type: "DATANODE", HostID: "h3"}}))
	cmds, _, err := e.inv.RoleCommands(e.ctx, "c1", "HDFS-1", inventory.OpStart, []string{"dn3"})
	if err != nil {
		t.Fatal(err)
	}
	if c := e.drive(cmds[0].ID); c.ResultMessage != "host h3 has no agent in contact" {
		t.Errorf("start on a host without agent: %q", c.ResultMessage)
	}
}

// TestCommandConflicts checks that a command that holds a service keeps
// others off it until it ends or is aborted.
func TestCommandConflicts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	agents := e.hdfs(1)
	e.must(e.inv.CreateService(e.ctx, "c1", "SPARK-1", "SPARK", ""))
	e.must(e.inv.CreateRoles(e.ctx, "c1", "SPARK-1", []inventory.NewRole{{Name: "master", Type: "MASTER", HostID: "h1"}}))
	agents[0].silent = true // nothing ever starts: the command waits

	first, err := e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStart)
	if err != nil {
		t.Fatal(err)
	}
	busy := fmt.Sprintf("busy with command Start (id %d)", first.ID)
	for _, tc := range []struct {
		name  string
		do    func() error
		parts []string
	}{
		{"same service", func() error { _, err := e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStop); return err },
			[]string{"service 'HDFS-1' is " + busy, "wait for it to finish or abort it"}},
		{"cluster", func() error { _, err := e.inv.ClusterCommand(e.ctx, "c1", inventory.OpStop); return err },
			[]string{"cluster 'c1' is " + busy}},
		{"delete service", func() error { _, err := e.inv.DeleteService(e.ctx, "c1", "HDFS-1"); return err },
			[]string{busy}},
		{"delete role", func() error { _, err := e.inv.DeleteRole(e.ctx, "c1", "HDFS-1", "dn1"); return err },
			[]string{busy}},
		{"delete cluster", func() error { _, err := e.inv.DeleteCluster(e.ctx, "c1"); return err },
			[]string{busy}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.do(), apperr.Invalid, tc.parts...) })
	}
	_, errs, err := e.inv.RoleCommands(e.ctx, "c1", "HDFS-1", inventory.OpStop, []string{"dn1"})
	if err != nil || len(errs) != 1 || !strings.Contains(errs[0], "Role 'dn1': service 'HDFS-1' is "+busy) {
		t.Errorf("role command on a busy service: %v %v", errs, err)
	}
	// Another service is free.
	other, err := e.inv.ServiceCommand(e.ctx, "c1", "SPARK-1", inventory.OpStart)
	if err != nil {
		t.Fatalf("command on another service: %v", err)
	}

	// Abort ends the command and its running children, failed.
	e.waitFor("nn desired started", func() bool { return must(e.inv.GetRole(e.ctx, "c1", "HDFS-1", "nn")).Desired == inventory.RoleStarted })
	child := must(e.inv.GetCommand(e.ctx, first.ID)).Children[0]
	_, err = e.inv.AbortCommand(e.ctx, child.ID, "alice")
	wantErr(t, err, apperr.Invalid, fmt.Sprintf("command %d cannot be aborted", child.ID), "abort its parent")
	aborted, err := e.inv.AbortCommand(e.ctx, first.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if aborted.Active || aborted.Success == nil || *aborted.Success || aborted.ResultMessage != "Command aborted by alice." {
		t.Errorf("aborted command = %+v", aborted.CommandRow)
	}
	for _, k := range aborted.Children {
		if k.Active || k.Success == nil || *k.Success || k.ResultMessage != "Command aborted by alice." {
			t.Errorf("child of an aborted command = %+v", k)
		}
	}
	_, err = e.inv.AbortCommand(e.ctx, first.ID, "alice")
	wantErr(t, err, apperr.Invalid, fmt.Sprintf("command %d is not active", first.ID))
	// The role the command asked to start stays desired started.
	if r := must(e.inv.GetRole(e.ctx, "c1", "HDFS-1", "nn")); r.Desired != inventory.RoleStarted || r.StartSeq != 1 {
		t.Errorf("nn after the abort: desired %s, seq %d", r.Desired, r.StartSeq)
	}
	// The service is free again; the other command was not touched.
	agents[0].silent = false
	e.mustSucceed(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStart))
	e.mustSucceed(other, nil)

	// A role command holds its role and its service.
	agents[0].silent = true
	cmds, errs, err := e.inv.RoleCommands(e.ctx, "c1", "HDFS-1", inventory.OpRestart, []string{"dn1"})
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	roleBusy := fmt.Sprintf("busy with command Restart (id %d)", cmds[0].ID)
	_, err = e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStop)
	wantErr(t, err, apperr.Invalid, "service 'HDFS-1' is "+roleBusy)
	_, err = e.inv.ClusterCommand(e.ctx, "c1", inventory.OpStop)
	wantErr(t, err, apperr.Invalid, "cluster 'c1' is "+roleBusy)
	// Another role of the service is free.
	stops, errs, err := e.inv.RoleCommands(e.ctx, "c1", "HDFS-1", inventory.OpStop, []string{"dn1", "nn"})
	if err != nil || len(errs) != 1 || !strings.Contains(errs[0], "Role 'dn1': role 'dn1' is "+roleBusy) || len(stops) != 1 || stops[0].Role != "nn" {
		t.Errorf("second command on a busy role: %v %v %v", stops, errs, err)
	}
	// Role commands are aborted like any other.
	aborted, err = e.inv.AbortCommand(e.ctx, cmds[0].ID, "bob")
	if err != nil || aborted.Active || aborted.ResultMessage != "Command aborted by bob." {
		t.Errorf("aborted role command = %+v, %v", aborted.CommandRow, err)
	}
	agents[0].silent = false
	for _, c := range stops {
		e.mustSucceed(c, nil)
	}
	e.mustSucceed(e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStop))
}

// TestCommandsAcrossRestarts checks that commands active when the server
// went away end failed, with a message, and that a clean shutdown ends
// the running ones the same way.
func TestCommandsAcrossRestarts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	agents := e.hdfs(1)
	agents[0].silent = true
	c, err := e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStart)
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the first child", func() bool { return len(must(e.inv.GetCommand(e.ctx, c.ID)).Children) > 0 })

	// A new server on the same store (the old one crashed, say).
	e.clock.Advance(time.Minute)
	e.newService()
	got, err := e.inv.GetCommand(e.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	const lost = "The server stopped while this command was running, so it did not finish. Check the state of its roles and run it again."
	if got.Active || got.Success == nil || *got.Success || got.ResultMessage != lost || !got.EndedAt.Equal(e.clock.Now()) {
		t.Errorf("command after the restart = %+v", got.CommandRow)
	}
	for _, k := range got.Children {
		if k.Active || k.ResultMessage != lost {
			t.Errorf("child after the restart = %+v", k)
		}
	}
	// The new server knows of no agent until it hears from it.
	agents[0].beat()
	// It runs commands on the service.
	c2, err := e.inv.ServiceCommand(e.ctx, "c1", "HDFS-1", inventory.OpStart)
	if err != nil {
		t.Fatalf("command after the restart: %v", err)
	}
	e.waitFor("the first child", func() bool { return len(must(e.inv.GetCommand(e.ctx, c2.ID)).Children) > 0 })
	// A clean shutdown ends it.
	inv := e.inv
	e.stop()
	e.stop = func() {}
	got, err = inv.GetCommand(e.ctx, c2.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Active || got.Success == nil || *got.Success || got.ResultMessage != "The server stopped while this command was running, so it did not finish." {
		t.Errorf("command after a shutdown = %+v", got.CommandRow)
	}
}
