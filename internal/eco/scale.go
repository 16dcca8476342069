package eco

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/inventory"
	"github.com/herdhq/herd/internal/store"
)

// maxWorkers bounds a cluster's workers.
const maxWorkers = 100

// beginChange checks that a running cluster can change and marks it
// changing, applying fn to its row in the same transaction.
func (s *Service) beginChange(ctx context.Context, id, what string, fn func(q *store.Queries, c *Cluster) error) (Cluster, error) {
	var c Cluster
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		var err error
		if c, err = s.get(ctx, q, id); err != nil {
			return err
		}
		if c.Status != StatusRunning || c.Changing {
			state := c.Status
			if c.Changing {
				state += " with a change in flight"
			}
			return apperr.New(apperr.Invalid, "cluster %s cannot %s: it is %s", c.Name, what, state)
		}
		if err := fn(q, &c); err != nil {
			return err
		}
		c.Changing, c.UpdatedAt = true, s.cfg.Now()
		return q.UpdateEcoCluster(ctx, c.EcoClusterRow)
	})
	return c, err
}

// ScaleOut adds n worker VMs, each with a DataNode and a Spark worker,
// and brings them to GOOD.
func (s *Service) ScaleOut(ctx context.Context, id string, n int) (Cluster, error) {
	if n < 1 {
		return Cluster{}, apperr.New(apperr.Invalid, "scaleCnt must be at least 1")
	}
	var added []store.EcoVMRow
	c, err := s.beginChange(ctx, id, "scale out", func(q *store.Queries, c *Cluster) error {
		if c.WorkerCnt+n > maxWorkers {
			return apperr.New(apperr.Invalid, "scaleCnt %d would make %d workers; at most %d", n, c.WorkerCnt+n, maxWorkers)
		}
		next := 0
		for _, v := range c.VMs {
			if !v.IsMaster && v.Index > next {
				next = v.Index
			}
		}
		now := s.cfg.Now()
		for i := 1; i <= n; i++ {
			v := s.newVM(c.ID, c.Name, false, next+i, NodeGroup{FlavorName: c.Spec.Worker.FlavorName, VolumeGB: c.Spec.Worker.VolumeGB}, now)
			if err := q.InsertEcoVM(ctx, v); err != nil {
				return err
			}
			added = append(added, v)
		}
		c.WorkerCnt += n
		return nil
	})
	if err != nil {
		return c, err
	}
	s.start(id, func(ctx context.Context) { s.scaleOut(ctx, c, added) })
	return s.Get(ctx, id)
}

func (s *Service) scaleOut(ctx context.Context, c Cluster, added []store.EcoVMRow) {
	err := s.addWorkers(ctx, c, added)
	if err != nil && ctx.Err() != nil {
		return // the next start settles it
	}
	reason := ""
	if err != nil {
		s.log.Warn("scale-out failed", "cluster", c.Name, "err", err)
		reason = "scale-out of " + fmt.Sprint(len(added)) + " workers failed: " + err.Error()
		s.removeWorkers(ctx, c, added)
	}
	live, lerr := s.liveWorkers(ctx, c.ID)
	if lerr != nil {
		s.log.Error("scale-out", "cluster", c.Name, "err", lerr)
	}
	if err := s.setStatus(ctx, c.ID, func(r *store.EcoClusterRow) {
		r.Changing, r.Reason = false, reason
		if lerr == nil {
			r.WorkerCnt = live
		}
	}); err != nil {
		s.log.Error("scale-out", "cluster", c.Name, "err", err)
	}
}

// addWorkers makes the VMs, adds them to the cluster manager's cluster
// with their roles, starts the roles and waits for GOOD.
func (s *Service) addWorkers(ctx context.Context, c Cluster, added []store.EcoVMRow) error {
	if err := s.createVMs(ctx, c, added); err != nil {
		return err
	}
	byAddr, err := s.hostsByAddress(ctx)
	if err != nil {
		return err
	}
	var ids []string
	var hdfs, spark []inventory.NewRole
	for _, v := range added {
		id := byAddr[v.Address].ID
		ids = append(ids, id)
		r := workerRoles(c.Name, v, id)
		hdfs, spark = append(hdfs, r[0]), append(spark, r[1])
	}
	if _, err := s.inv.AddHosts(ctx, c.Name, ids); err != nil {
		return err
	}
	for _, svc := range []struct {
		name  string
		roles []inventory.NewRole
	}{{hdfsService, hdfs}, {sparkService, spark}} {
		if _, err := s.inv.CreateRoles(ctx, c.Name, svc.name, svc.roles); err != nil {
			return err
		}
		names := make([]string, 0, len(svc.roles))
		for _, r := range svc.roles {
			names = append(names, r.Name)
		}
		cmds, errs, err := s.inv.RoleCommands(ctx, c.Name, svc.name, inventory.OpStart, names)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return fmt.Errorf("start %v: %v", names, errs)
		}
		for _, cmd := range cmds {
			if err := s.waitCommand(ctx, cmd.ID); err != nil {
				return err
			}
		}
	}
	return s.waitGood(ctx, c.Name)
}

// removeWorkers takes worker VMs out of the cluster manager and destroys
// them; what fails is logged.
func (s *Service) removeWorkers(ctx context.Context, c Cluster, vms []store.EcoVMRow) {
	byAddr, err := s.hostsByAddress(ctx)
	if err != nil {
		s.log.Error("remove workers", "cluster", c.Name, "err", err)
	}
	var problems []error
	for _, v := range vms {
		if h, ok := byAddr[v.Address]; ok && v.Address != "" {
			problems = append(problems, s.removeHostRoles(ctx, c.Name, h))
		}
		problems = append(problems, s.destroyVM(ctx, v))
	}
	if err := errors.Join(problems...); err != nil {
		s.log.Error("remove workers", "cluster", c.Name, "err", err)
	}
}

// removeHostRoles stops and deletes the roles on a host and removes the
// host from the cluster manager.
func (s *Service) removeHostRoles(ctx context.Context, cluster string, h inventory.HostInfo) error {
	byService := map[string][]string{}
	for _, r := range h.Roles {
		byService[r.Service] = append(byService[r.Service], r.Name)
	}
	for svc, names := range byService {
		cmds, _, err := s.inv.RoleCommands(ctx, cluster, svc, inventory.OpStop, names)
		if err != nil {
			return err
		}
		for _, cmd := range cmds {
			if err := s.waitCommand(ctx, cmd.ID); err != nil {
				return err
			}
		}
		for _, n := range names {
			if _, err := s.inv.DeleteRole(ctx, cluster, svc, n); err != nil {
				return err
			}
		}
	}
	if h.Cluster != "" {
		if err := s.inv.RemoveHost(ctx, cluster, h.ID); err != nil {
			return err
		}
	}
	_, err := s.inv.DeleteHost(ctx, h.ID)
	return err
}

// liveWorkers counts a cluster's worker VMs that are not deleted.
func (s *Service) liveWorkers(ctx context.Context, id string) (int, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range c.LiveVMs() {
		if !v.IsMaster {
			n++
		}
	}
	return n, nil
}

// settleScale settles a change a previous server left in flight on a
// running cluster: workers whose VMs never ran are removed again, the
// cluster goes on with the rest; a user task that was running failed.
func (s *Service) settleScale(ctx context.Context, id string) {
	c, err := s.Get(ctx, id)
	if err != nil {
		s.log.Error("settle scale", "id", id, "err", err)
		return
	}
	var unfinished []store.EcoVMRow
	for _, v := range c.LiveVMs() {
		if v.Status != VMRunning {
			unfinished = append(unfinished, v)
		}
	}
	s.removeWorkers(ctx, c, unfinished)
	live, err := s.liveWorkers(ctx, id)
	if err != nil {
		s.log.Error("settle scale", "id", id, "err", err)
		return
	}
	reason := ""
	if len(unfinished) > 0 {
		reason = fmt.Sprintf("the server restarted during a scale; %d unfinished workers were removed", len(unfinished))
	}
	if err := s.setStatus(ctx, id, func(r *store.EcoClusterRow) {
		r.Changing, r.WorkerCnt, r.Reason = false, live, reason
		if r.TaskStatus == TaskRunning {
			r.TaskStatus, r.Reason = TaskFailed, "the server restarted while the user task ran"
		}
	}); err != nil {
		s.log.Error("settle scale", "id", id, "err", err)
	}
}

// ScaleIn removes n workers, highest index first, after decommissioning
// their DataNodes (their blocks re-replicated to the others). It refuses to
// leave fewer workers than the cluster's HDFS replication.
func (s *Service) ScaleIn(ctx context.Context, id string, n int) (Cluster, error) {
	if n < 1 {
		return Cluster{}, apperr.New(apperr.Invalid, "scaleCnt must be at least 1")
	}
	var removing []store.EcoVMRow
	c, err := s.beginChange(ctx, id, "scale in", func(_ *store.Queries, c *Cluster) error {
		var workers []store.EcoVMRow
		for _, v := range c.LiveVMs() {
			if !v.IsMaster {
				workers = append(workers, v)
			}
		}
		if left := len(workers) - n; left < c.Spec.HDFSReplication {
			return apperr.New(apperr.Invalid, "scaleCnt %d would leave %d workers, fewer than the cluster's hdfsReplication (%d)", n, max(left, 0), c.Spec.HDFSReplication)
		}
		slices.SortFunc(workers, func(a, b store.EcoVMRow) int { return b.Index - a.Index })
		removing = workers[:n]
		c.WorkerCnt = len(workers) - n
		return nil
	})
	if err != nil {
		return c, err
	}
	s.start(id, func(ctx context.Context) { s.scaleIn(ctx, c, removing) })
	return s.Get(ctx, id)
}

func (s *Service) scaleIn(ctx context.Context, c Cluster, removing []store.EcoVMRow) {
	names := make([]string, 0, len(removing))
	for _, v := range removing {
		names = append(names, workerRoles(c.Name, v, "")[0].Name)
	}
	reason := ""
	cmd, err := s.inv.Decommission(ctx, c.Name, hdfsService, names)
	if err == nil {
		err = s.waitCommand(ctx, cmd.ID)
	}
	if err != nil && ctx.Err() != nil {
		return // the next start settles it
	}
	if err != nil {
		s.log.Warn("scale-in: decommission failed; no worker removed", "cluster", c.Name, "err", err)
		reason = "scale-in failed, no worker was removed: " + err.Error()
	} else {
		s.removeWorkers(ctx, c, removing)
	}
	live, lerr := s.liveWorkers(ctx, c.ID)
	if err := s.setStatus(ctx, c.ID, func(r *store.EcoClusterRow) {
		r.Changing, r.Reason = false, reason
		if lerr == nil {
			r.WorkerCnt = live
		}
	}); err != nil {
		s.log.Error("scale-in", "cluster", c.Name, "err", err)
	}
}
