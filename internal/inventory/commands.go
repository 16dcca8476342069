package inventory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/store"
)

// Command is a command with its parent, if any, and its children.
type Command struct {
	store.CommandRow
	Parent   *store.CommandRow
	Children []store.CommandRow
}

// commandEngine runs commands in the background.
type commandEngine struct {
	mu      sync.Mutex
	base    context.Context
	wg      sync.WaitGroup
	running map[int64]*runningCommand
}

type runningCommand struct {
	cluster, service string // service "" for a cluster command
	role             string // "" but for a role command
	name             string
	cancel           context.CancelCauseFunc
}

// clashes reports whether rc acts on anything a command on cluster,
// service ("": the whole cluster) and role ("": the whole service) would.
func (rc *runningCommand) clashes(cluster, service, role string) bool {
	switch {
	case rc.cluster != cluster:
		return false
	case rc.service == "" || service == "":
		return true
	case rc.service != service:
		return false
	}
	return rc.role == "" || role == "" || rc.role == role
}

// busyErrorLocked says that what cluster, service and role name is busy
// with a running command, or returns nil. e.mu is held.
func (e *commandEngine) busyErrorLocked(cluster, service, role string) error {
	for id, rc := range e.running {
		if !rc.clashes(cluster, service, role) {
			continue
		}
		what := "cluster '" + cluster + "'"
		switch {
		case role != "" && rc.role == role:
			what = "role '" + role + "'"
		case service != "":
			what = "service '" + service + "'"
		}
		return apperr.New(apperr.Invalid, "%s is busy with command %s (id %d); wait for it to finish or abort it", what, rc.name, id)
	}
	return nil
}

func (e *commandEngine) init() {
	e.running = map[int64]*runningCommand{}
	e.base = context.Background()
}

// errAborted is the cause of an aborted command's cancellation.
type errAborted struct{ by string }

func (e errAborted) Error() string { return "aborted by " + e.by }

// RunCommands makes commands run under ctx and, when ctx ends, waits for the
// running ones to stop. Commands left active by a previous server are
// failed first: nothing is executing them any more.
func (s *Service) RunCommands(ctx context.Context) error {
	now := s.cfg.Now()
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		active, err := q.ActiveCommands(ctx)
		if err != nil {
			return err
		}
		for _, c := range active {
			if err := q.EndCommand(ctx, c.ID, false, "The server stopped while this command was running, so it did not finish. Check the state of its roles and run it again.", now); err != nil {
				return err
			}
		}
		if len(active) > 0 {
			s.log.Warn("failed commands left running by the previous server", "count", len(active))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recover commands: %w", err)
	}
	s.cmds.mu.Lock()
	s.cmds.base = ctx
	s.cmds.mu.Unlock()
	return nil
}

// WaitCommands waits for running commands to end (after their context did).
func (s *Service) WaitCommands() { s.cmds.wg.Wait() }

// begin records a top-level command and runs fn in the background.
func (s *Service) begin(ctx context.Context, row store.CommandRow, fn func(ctx context.Context, id int64) error) (Command, error) {
	e := &s.cmds
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.busyErrorLocked(row.Cluster, row.Service, row.Role); err != nil {
		return Command{}, err
	}
	row.StartedAt = s.cfg.Now()
	var id int64
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		var err error
		id, err = q.InsertCommand(ctx, row)
		return err
	})
	if err != nil {
		return Command{}, err
	}
	row.ID, row.Active = id, true
	cctx, cancel := context.WithCancelCause(e.base)
	e.running[id] = &runningCommand{cluster: row.Cluster, service: row.Service, role: row.Role, name: row.Name, cancel: cancel}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		err := fn(cctx, id)
		s.finish(cctx, id, err)
		cancel(nil)
		e.mu.Lock()
		delete(e.running, id)
		e.mu.Unlock()
	}()
	return Command{CommandRow: row}, nil
}

// finish ends a command with the outcome of its work.
func (s *Service) finish(ctx context.Context, id int64, err error) {
	msg, ok := "Command completed.", err == nil
	if err != nil {
		msg = err.Error()
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			msg = "Command " + cause.Error() + "."
		} else if ctx.Err() != nil {
			msg = "The server stopped while this command was running, so it did not finish."
		}
	}
	// The command's own context may be over: end it regardless.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if werr := s.db.InTx(wctx, func(q *store.Queries) error { return q.EndCommand(wctx, id, ok, msg, s.cfg.Now()) }); werr != nil {
		s.log.Error("end command", "id", id, "err", werr)
	}
	s.reports.bump()
}

// child records a child command, runs fn with its id and ends it.
func (s *Service) child(ctx context.Context, parent int64, row store.CommandRow, fn func(id int64) error) error {
	row.ParentID, row.StartedAt = parent, s.cfg.Now()
	var id int64
	wctx := context.WithoutCancel(ctx)
	err := s.db.InTx(wctx, func(q *store.Queries) error {
		var err error
		id, err = q.InsertCommand(wctx, row)
		return err
	})
	if err != nil {
		return err
	}
	err = fn(id)
	s.finish(ctx, id, err)
	return err
}

// Command operations.
const (
	OpStart   = "start"
	OpStop    = "stop"
	OpRestart = "restart"
)

var opNames = map[string]string{OpStart: "Start", OpStop: "Stop", OpRestart: "Restart"}

// ServiceCommand starts, stops or restarts every role of a service, role
// types in the type's start order (stops in reverse).
func (s *Service) ServiceCommand(ctx context.Context, cluster, service, op string) (Command, error) {
	if _, err := s.GetService(ctx, cluster, service); err != nil {
		return Command{}, err
	}
	name, ok := opNames[op]
	if !ok {
		return Command{}, apperr.New(apperr.NotFound, "unknown service command '%s'", op)
	}
	return s.begin(ctx, store.CommandRow{Name: name, Cluster: cluster, Service: service}, func(ctx context.Context, id int64) error {
		return s.serviceOp(ctx, id, cluster, service, op)
	})
}

// ClusterCommand starts, stops or restarts every service of a cluster.
func (s *Service) ClusterCommand(ctx context.Context, cluster, op string) (Command, error) {
	if _, err := s.GetCluster(ctx, cluster); err != nil {
		return Command{}, err
	}
	name, ok := opNames[op]
	if !ok {
		return Command{}, apperr.New(apperr.NotFound, "unknown cluster command '%s'", op)
	}
	return s.begin(ctx, store.CommandRow{Name: name, Cluster: cluster}, func(ctx context.Context, id int64) error {
		services, err := s.db.Read().ListServices(ctx, cluster)
		if err != nil {
			return err
		}
		// HDFS first: other services may use it.
		sort.SliceStable(services, func(i, j int) bool { return services[i].Type == "HDFS" && services[j].Type != "HDFS" })
		run := func(ops []string, order []store.ServiceRow) error {
			for _, o := range ops {
				for _, svc := range order {
					err := s.child(ctx, id, store.CommandRow{Name: opNames[o], Cluster: cluster, Service: svc.Name}, func(child int64) error {
						return s.serviceOp(ctx, child, cluster, svc.Name, o)
					})
					if err != nil {
						return fmt.Errorf("%s of service %s failed: %w", opNames[o], svc.Name, err)
					}
				}
			}
			return nil
		}
		reversed := slices.Clone(services)
		slices.Reverse(reversed)
		switch op {
		case OpStart:
			return run([]string{OpStart}, services)
		case OpStop:
			return run([]string{OpStop}, reversed)
		}
		if err := run([]string{OpStop}, reversed); err != nil {
			return err
		}
		return run([]string{OpStart}, services)
	})
}

// serviceOp does op on a service's roles; parent, when not 0, gets one
// child command per role.
func (s *Service) serviceOp(ctx context.Context, parent int64, cluster, service, op string) error {
	q := s.db.Read()
	svc, err := q.GetService(ctx, cluster, service)
	if err != nil {
		return err
	}
	t, _ := s.catalog.Type(svc.Type)
	roles, err := q.ListRoles(ctx, cluster, service)
	if err != nil {
		return err
	}
	if len(roles) == 0 {
		return fmt.Errorf("service %s has no roles", service)
	}
	order := t.RoleTypeNames()
	byType := map[string][]store.RoleRow{}
	for _, r := range roles {
		byType[r.Type] = append(byType[r.Type], r)
	}
	stop := func() error {
		for i := len(order) - 1; i >= 0; i-- {
			if err := s.roleOps(ctx, parent, byType[order[i]], OpStop); err != nil {
				return err
			}
		}
		return nil
	}
	start := func() error {
		for _, rt := range order {
			if err := s.roleOps(ctx, parent, byType[rt], OpStart); err != nil {
				return err
			}
		}
		return nil
	}
	switch op {
	case OpStart:
		return start()
	case OpStop:
		return stop()
	}
	if err := stop(); err != nil {
		return err
	}
	return start()
}

// roleOps does op on roles at once, each in a child command of parent,
// and waits for all of them.
func (s *Service) roleOps(ctx context.Context, parent int64, roles []store.RoleRow, op string) error {
	errs := make([]error, len(roles))
	var wg sync.WaitGroup
	for i, r := range roles {
		wg.Go(func() {
			errs[i] = s.child(ctx, parent, store.CommandRow{Name: opNames[op], Cluster: r.Cluster, Service: r.Service, Role: r.Name, HostID: r.HostID},
				func(int64) error { return s.roleOp(ctx, r, op) })
		})
	}
	wg.Wait()
	var failed []string
	for i, err := range errs {
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			failed = append(failed, roles[i].Name+": "+err.Error())
		}
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// roleOp does op on one role and waits until it took effect.
func (s *Service) roleOp(ctx context.Context, r store.RoleRow, op string) error {
	if op == OpRestart {
		if err := s.roleOp(ctx, r, OpStop); err != nil {
			return err
		}
		op = OpStart
	}
	svc, err := s.db.Read().GetService(ctx, r.Cluster, r.Service)
	if err != nil {
		return err
	}
	t, _ := s.catalog.Type(svc.Type)
	rt, _ := t.RoleType(r.Type)
	if live, seen := s.hostLive(r.HostID); !live {
		if seen.IsZero() {
			return fmt.Errorf("host %s has no agent in contact", r.HostID)
		}
		return fmt.Errorf("host %s's agent has not sent a heartbeat since %s", r.HostID, seen.UTC().Format(time.RFC3339))
	}
	if op == OpStop {
		if err := s.write(ctx, func(q *store.Queries) error { return q.SetRoleDesired(ctx, r.Name, RoleStopped, false) }); err != nil {
			return err
		}
		return s.waitRole(ctx, r, rt.StopTimeout+15*time.Second, func(rep agentapi.RoleStatus, reported bool) (bool, error) {
			return !reported || rep.State == agentapi.StateStopped || rep.State == agentapi.StateExited || rep.State == agentapi.StateFailed, nil
		})
	}
	// Start: a role already started stays as it is.
	cur, err := s.db.Read().GetRole(ctx, r.Name)
	if err != nil {
		return err
	}
	if cur.Desired == RoleStarted && s.roleStatus(cur, nil).State == StateStarted {
		return nil
	}
	if spec, err := s.roleSpec(ctx, cur.Name); err != nil {
		return fmt.Errorf("cannot start: %w", err)
	} else if spec.Launch.Runtime != agentapi.RuntimeExec {
		if f, ok := s.hostFacts(r.HostID); ok && f.Runtimes[spec.Launch.Runtime] == "" {
			return fmt.Errorf("host %s cannot run %s roles: %s", r.HostID, spec.Launch.Runtime, f.Problems[spec.Launch.Runtime])
		}
	}
	if err := s.write(ctx, func(q *store.Queries) error { return q.SetRoleDesired(ctx, r.Name, RoleStarted, true) }); err != nil {
		return err
	}
	seq := cur.StartSeq + 1
	return s.waitRole(ctx, r, rt.StartTimeout, func(rep agentapi.RoleStatus, reported bool) (bool, error) {
		if !reported || rep.StartSeq < seq {
			return false, nil
		}
		switch rep.State {
		case agentapi.StateFailed, agentapi.StateExited:
			msg := "the process " + rep.State
			if rep.ExitCode != nil {
				msg += fmt.Sprintf(" with exit code %d", *rep.ExitCode)
			}
			if rep.Message != "" {
				msg += ": " + rep.Message
			}
			return false, errors.New(msg)
		}
		_, _, probed := s.roleReport(r.HostID, r.Name)
		return probed, nil
	})
}

// waitRole waits until done says so about the role's report, the timeout
// passes or the host's agent goes silent.
func (s *Service) waitRole(ctx context.Context, r store.RoleRow, timeout time.Duration, done func(agentapi.RoleStatus, bool) (bool, error)) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		_, ch := s.reports.wait()
		rep, reported, _ := s.roleReport(r.HostID, r.Name)
		ok, err := done(rep, reported)
		if ok || err != nil {
			return err
		}
		if live, _ := s.hostLive(r.HostID); !live {
			return fmt.Errorf("host %s's agent stopped sending heartbeats", r.HostID)
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline.C:
			msg := fmt.Sprintf("timed out after %s", timeout)
			if reported {
				msg += "; the process is " + rep.State
				for name, p := range rep.Probes {
					if !p.OK {
						msg += "; probe " + name + ": " + p.Error
					}
				}
			}
			return errors.New(msg)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// RoleCommands runs op on each named role of a service, one command per
// role; names that are not roles of the service are reported in errs.
func (s *Service) RoleCommands(ctx context.Context, cluster, service, op string, names []string) ([]Command, []string, error) {
	if _, err := s.GetService(ctx, cluster, service); err != nil {
		return nil, nil, err
	}
	name, ok := opNames[op]
	if !ok {
		return nil, nil, apperr.New(apperr.NotFound, "unknown role command '%s'", op)
	}
	if len(names) == 0 {
		return nil, nil, apperr.New(apperr.Invalid, "no role names given")
	}
	var cmds []Command
	var errs []string
	for _, n := range names {
		r, err := s.GetRole(ctx, cluster, service, n)
		if err != nil {
			if apperr.KindOf(err) == apperr.NotFound {
				errs = append(errs, fmt.Sprintf("Role '%s' does not exist in service '%s'.", n, service))
				continue
			}
			return nil, nil, err
		}
		c, err := s.beginRole(ctx, name, r, op)
		if err != nil {
			errs = append(errs, fmt.Sprintf("Role '%s': %s", n, apperr.Message(err)))
			continue
		}
		cmds = append(cmds, c)
	}
	return cmds, errs, nil
}

// beginRole runs a role command. It holds its role, and keeps commands
// on the whole service off it, so several may run on one service at once.
func (s *Service) beginRole(ctx context.Context, name string, r store.RoleRow, op string) (Command, error) {
	row := store.CommandRow{Name: name, Cluster: r.Cluster, Service: r.Service, Role: r.Name, HostID: r.HostID}
	return s.begin(ctx, row, func(ctx context.Context, _ int64) error { return s.roleOp(ctx, r, op) })
}

// GetCommand returns a command with its children.
func (s *Service) GetCommand(ctx context.Context, id int64) (Command, error) {
	q := s.db.Read()
	c, err := q.GetCommand(ctx, id)
	if err != nil {
		return Command{}, notFound(err, "command %d not found", id)
	}
	out := Command{CommandRow: c}
	if c.ParentID != 0 {
		p, err := q.GetCommand(ctx, c.ParentID)
		if err != nil {
			return Command{}, err
		}
		out.Parent = &p
	}
	out.Children, err = q.ChildCommands(ctx, id)
	return out, err
}

// AbortCommand stops a running command; it ends failed.
func (s *Service) AbortCommand(ctx context.Context, id int64, by string) (Command, error) {
	c, err := s.GetCommand(ctx, id)
	if err != nil {
		return c, err
	}
	if !c.Active {
		return c, apperr.New(apperr.Invalid, "command %d is not active", id)
	}
	s.cmds.mu.Lock()
	rc := s.cmds.running[id]
	s.cmds.mu.Unlock()
	if rc == nil {
		return c, apperr.New(apperr.Invalid, "command %d cannot be aborted: it is part of another command; abort its parent", id)
	}
	rc.cancel(errAborted{by: by})
	// Wait (briefly) for it to end, so the answer shows the outcome.
	for range 50 {
		if c, err = s.GetCommand(ctx, id); err != nil || !c.Active {
			return c, err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c, nil
}

// checkIdle fails when a command holds the cluster, service ("": the
// whole cluster) or role ("": the whole service).
func (s *Service) checkIdle(cluster, service, role string) error {
	s.cmds.mu.Lock()
	defer s.cmds.mu.Unlock()
	return s.cmds.busyErrorLocked(cluster, service, role)
}
