package eco

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herdhq/herd/internal/hostprovider"
	"github.com/herdhq/herd/internal/inventory"
	"github.com/herdhq/herd/internal/servicetype"
	"github.com/herdhq/herd/internal/store"
)

// Service names of an Eco cluster in the cluster manager.
const (
	hdfsService  = "HDFS-1"
	sparkService = "SPARK-1"
)

// provision takes a new cluster from Initializing to Running: VMs with
// their agents, user scripts, then (Installing) the cluster manager's
// cluster with HDFS and Spark, started and GOOD. Any failure ends it
// Terminated(Error) with the reason and its VMs removed.
func (s *Service) provision(ctx context.Context, id string) {
	if err := s.provisionSteps(ctx, id); err != nil {
		if ctx.Err() != nil {
			return // the server is stopping; the next start settles it
		}
		s.fail(ctx, id, err)
	}
}

func (s *Service) provisionSteps(ctx context.Context, id string) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	vms := c.LiveVMs()
	if err := s.createVMs(ctx, c, vms); err != nil {
		return err
	}
	if err := s.setStatus(ctx, id, func(r *store.EcoClusterRow) { r.Status = StatusInstalling }); err != nil {
		return err
	}
	if c, err = s.Get(ctx, id); err != nil {
		return err
	}
	if err := s.install(ctx, c); err != nil {
		return err
	}
	now := s.cfg.Now()
	// With a user task, the cluster is not scalable until the task ends.
	task := c.Spec.Task != nil
	if err := s.setStatus(ctx, id, func(r *store.EcoClusterRow) { r.Status, r.Changing, r.RunningAt = StatusRunning, task, now }); err != nil {
		return err
	}
	s.log.Info("cluster running", "cluster", c.Name, "id", id, "took", now.Sub(c.CreatedAt).Round(time.Millisecond))
	if task {
		s.runTask(ctx, c)
	}
	return nil
}

// createVMs makes the VMs at once, runs the user script on each, and
// waits for their agents to register.
func (s *Service) createVMs(ctx context.Context, c Cluster, vms []store.EcoVMRow) error {
	tok, err := s.inv.CreateHostToken(ctx, "herd", "agents of Hadoop Eco cluster "+c.Name, time.Hour)
	if err != nil {
		return err
	}
	errs := make([]error, len(vms))
	var wg sync.WaitGroup
	for i := range vms {
		wg.Go(func() { errs[i] = s.createVM(ctx, c, &vms[i], tok.Secret) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return s.waitHosts(ctx, vms)
}

func (s *Service) createVM(ctx context.Context, c Cluster, v *store.EcoVMRow, token string) error {
	vm, err := s.cfg.Provider.Create(ctx, hostprovider.VMSpec{InstanceID: v.InstanceID, Name: v.Name, Flavor: s.cfg.Flavors[v.Flavor],
		VolumeGB: v.VolumeGB, Agent: hostprovider.AgentJoin{ServerURL: s.cfg.ServerURL(), Token: token}})
	if err != nil {
		return fmt.Errorf("create VM %s: %w", v.Name, err)
	}
	v.Address = vm.Address
	if err := s.updateVM(ctx, *v); err != nil {
		return err
	}
	if script := c.Spec.UserScript; len(script) > 0 {
		out, err := s.cfg.Provider.Exec(ctx, v.InstanceID, script)
		v.ScriptLog = string(out)
		if uerr := s.updateVM(ctx, *v); uerr != nil {
			return uerr
		}
		if err != nil {
			return fmt.Errorf("user script on %s failed: %w; its output ends:\n%s", v.Name, err, tail(out, 2000))
		}
	}
	return nil
}

// tail returns the last n bytes of b.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// waitHosts waits until the agent of every VM has registered and marks
// the VMs Running.
func (s *Service) waitHosts(ctx context.Context, vms []store.EcoVMRow) error {
	deadline := time.Now().Add(s.cfg.JoinTimeout)
	for {
		byAddr, err := s.hostsByAddress(ctx)
		if err != nil {
			return err
		}
		var missing []string
		for _, v := range vms {
			if h, ok := byAddr[v.Address]; !ok || !h.Live {
				missing = append(missing, v.Name)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the agents of %v did not register within %s", missing, s.cfg.JoinTimeout)
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
	for i := range vms {
		vms[i].Status = VMRunning
		if err := s.updateVM(ctx, vms[i]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) hostsByAddress(ctx context.Context) (map[string]inventory.HostInfo, error) {
	hosts, err := s.inv.ListHosts(ctx, "")
	if err != nil {
		return nil, err
	}
	out := make(map[string]inventory.HostInfo, len(hosts))
	for _, h := range hosts {
		out[h.Address] = h
	}
	return out, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// install builds the cluster manager's cluster on the VMs: HDFS with the
// NameNode on the master and a DataNode per worker, Spark with the master
// on the master and a worker per worker; then starts it and waits for
// every role to be GOOD.
func (s *Service) install(ctx context.Context, c Cluster) error {
	byAddr, err := s.hostsByAddress(ctx)
	if err != nil {
		return err
	}
	if _, err := s.inv.CreateCluster(ctx, c.Name, c.Name, "CDH7", "7.1.9"); err != nil {
		return fmt.Errorf("create the cluster in the cluster manager: %w", err)
	}
	var hostIDs []string
	var master string
	var workers []store.EcoVMRow
	for _, v := range c.LiveVMs() {
		id := byAddr[v.Address].ID
		hostIDs = append(hostIDs, id)
		if v.IsMaster {
			master = id
		} else {
			workers = append(workers, v)
		}
	}
	if _, err := s.inv.AddHosts(ctx, c.Name, hostIDs); err != nil {
		return err
	}
	if _, err := s.inv.CreateServices(ctx, c.Name, []inventory.NewService{{Name: hdfsService, Type: "HDFS"}, {Name: sparkService, Type: "SPARK"}}); err != nil {
		return err
	}
	if err := s.configure(ctx, c); err != nil {
		return err
	}
	if err := s.sizeRoles(ctx, c); err != nil {
		return err
	}
	hdfs := []inventory.NewRole{{Name: c.Name + "-NAMENODE", Type: "NAMENODE", HostID: master}}
	spark := []inventory.NewRole{{Name: c.Name + "-SPARK-MASTER", Type: "MASTER", HostID: master}}
	for _, w := range workers {
		hdfs = append(hdfs, workerRoles(c.Name, w, byAddr[w.Address].ID)[0])
		spark = append(spark, workerRoles(c.Name, w, byAddr[w.Address].ID)[1])
	}
	if _, err := s.inv.CreateRoles(ctx, c.Name, hdfsService, hdfs); err != nil {
		return err
	}
	if _, err := s.inv.CreateRoles(ctx, c.Name, sparkService, spark); err != nil {
		return err
	}
	cmd, err := s.inv.ClusterCommand(ctx, c.Name, inventory.OpStart)
	if err != nil {
		return err
	}
	if err := s.waitCommand(ctx, cmd.ID); err != nil {
		return err
	}
	return s.waitGood(ctx, c.Name)
}

// workerRoles are the DataNode and Spark worker of a worker VM.
func workerRoles(cluster string, w store.EcoVMRow, hostID string) [2]inventory.NewRole {
	n := strconv.Itoa(w.Index)
	return [2]inventory.NewRole{
		{Name: cluster + "-DATANODE-" + n, Type: "DATANODE", HostID: hostID},
		{Name: cluster + "-SPARK-WORKER-" + n, Type: "WORKER", HostID: hostID},
	}
}

// safetyValves maps configText classifications to the service parameter
// that adds them to the generated files.
var safetyValves = map[string]struct{ service, param string }{
	"core-site":      {hdfsService, "core_site_safety_valve"},
	"hdfs-site":      {hdfsService, "hdfs_service_config_safety_valve"},
	"hadoop-env":     {hdfsService, "hadoop_env_safety_valve"},
	"spark-defaults": {sparkService, "spark_defaults_safety_valve"},
	"spark-env":      {sparkService, "spark_env_safety_valve"},
}

// configure sets the services' configuration from the request: the HDFS
// settings, then each configText classification into its safety valve;
// user-env:<user> classifications are written on every VM.
func (s *Service) configure(ctx context.Context, c Cluster) error {
	str := func(v string) *string { return &v }
	updates := map[string][]inventory.ConfigUpdate{hdfsService: {
		{Name: "dfs_replication", Value: str(strconv.Itoa(c.Spec.HDFSReplication))},
		{Name: "dfs_block_size", Value: str(strconv.FormatInt(int64(c.Spec.HDFSBlockSizeMB)<<20, 10))},
	}}
	for _, conf := range c.Spec.Configurations {
		if user, ok := strings.CutPrefix(conf.Classification, "user-env:"); ok {
			if err := s.writeUserEnv(ctx, c, user, conf.Properties["env"]); err != nil {
				return err
			}
			continue
		}
		sv, ok := safetyValves[conf.Classification]
		if !ok {
			return errClassification(conf.Classification)
		}
		xml := strings.HasSuffix(conf.Classification, "-site")
		updates[sv.service] = append(updates[sv.service], inventory.ConfigUpdate{Name: sv.param,
			Value: str(servicetype.FormatSnippet(conf.Properties, xml))})
	}
	for _, svc := range []string{hdfsService, sparkService} {
		if len(updates[svc]) == 0 {
			continue
		}
		if _, err := s.inv.UpdateServiceConfig(ctx, c.Name, svc, updates[svc]); err != nil {
			return fmt.Errorf("configure %s: %w", svc, err)
		}
	}
	return nil
}

// writeUserEnv writes a user-env classification's shell lines on every VM,
// as ~<user>/.hadoop-eco-env, sourced from the user's .profile.
func (s *Service) writeUserEnv(ctx context.Context, c Cluster, user, env string) error {
	script := fmt.Sprintf(`set -e
home="$HOME/users/%[1]s"
mkdir -p "$home"
cat > "$home/.hadoop-eco-env" <<'HERD_USER_ENV_EOF'
%[2]s
HERD_USER_ENV_EOF
grep -qs 'hadoop-eco-env' "$home/.profile" || echo '. "$HOME/.hadoop-eco-env"' >> "$home/.profile"
`, user, env)
	for _, v := range c.LiveVMs() {
		if out, err := s.cfg.Provider.Exec(ctx, v.InstanceID, []byte(script)); err != nil {
			return fmt.Errorf("write user-env:%s on %s: %w: %s", user, v.Name, err, tail(out, 500))
		}
	}
	return nil
}

// waitCommand waits for a cluster-manager command to end and says why it
// failed.
func (s *Service) waitCommand(ctx context.Context, id int64) error {
	for {
		cmd, err := s.inv.GetCommand(ctx, id)
		if err != nil {
			return err
		}
		if !cmd.Active {
			if cmd.Success == nil || !*cmd.Success {
				return fmt.Errorf("command %s failed: %s", cmd.Name, cmd.ResultMessage)
			}
			return nil
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
}

// waitGood waits until every service of the cluster is GOOD.
func (s *Service) waitGood(ctx context.Context, cluster string) error {
	deadline := time.Now().Add(s.cfg.ReadyTimeout)
	for {
		var bad []string
		for _, name := range []string{hdfsService, sparkService} {
			svc, err := s.inv.GetService(ctx, cluster, name)
			if err != nil {
				return err
			}
			v, err := s.inv.ServiceStatus(ctx, svc)
			if err != nil {
				return err
			}
			if v.Health.Summary != inventory.HealthGood {
				why := v.Health.Summary
				for _, c := range v.Health.Checks {
					if c.Summary != inventory.HealthGood {
						why += ": " + c.Explanation
						break
					}
				}
				bad = append(bad, name+" is "+why)
			}
		}
		if len(bad) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("services not GOOD within %s: %v", s.cfg.ReadyTimeout, bad)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
}

// fail ends a cluster Terminated(Error) with the reason, removing what was
// made of it.
func (s *Service) fail(ctx context.Context, id string, cause error) {
	s.log.Warn("cluster failed", "id", id, "err", cause)
	s.teardown(ctx, id, StatusTerminatedError, cause.Error())
}

// teardown stops and removes a cluster's services and VMs and ends it with
// status (and reason). What cannot be removed is logged and said in the
// reason; the cluster ends terminated either way, so nothing stays
// Terminating forever.
func (s *Service) teardown(ctx context.Context, id, status, reason string) {
	c, err := s.Get(ctx, id)
	if err != nil {
		s.log.Error("tear down cluster", "id", id, "err", err)
		return
	}
	if status != StatusTerminatedError {
		_ = s.setStatus(ctx, id, func(r *store.EcoClusterRow) { r.Status = StatusTerminating })
	}
	s.stopInInventory(ctx, c)
	hostIDs, err := s.hostIDs(ctx, c.LiveVMs())
	var problems []error
	if err != nil {
		problems = append(problems, err)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, v := range c.LiveVMs() {
		wg.Go(func() {
			if err := s.destroyVM(ctx, v); err != nil {
				mu.Lock()
				problems = append(problems, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := s.inv.DropCluster(ctx, c.Name, hostIDs); err != nil {
		problems = append(problems, fmt.Errorf("remove cluster %s from the cluster manager: %w", c.Name, err))
	}
	if err := errors.Join(problems...); err != nil {
		s.log.Error("tear down cluster", "cluster", c.Name, "err", err)
		if reason != "" {
			reason += "; "
		}
		reason += "tear-down: " + err.Error()
	}
	now := s.cfg.Now()
	if err := s.setStatus(ctx, id, func(r *store.EcoClusterRow) {
		r.Status, r.Reason, r.Changing, r.TerminatedAt = status, reason, false, now
	}); err != nil {
		s.log.Error("tear down cluster", "cluster", c.Name, "err", err)
	}
	s.log.Info("cluster terminated", "cluster", c.Name, "status", status)
}

// stopInInventory stops the cluster's roles, so that its processes end
// cleanly before their VMs go; what fails is logged (Destroy kills what is
// left).
func (s *Service) stopInInventory(ctx context.Context, c Cluster) {
	if _, err := s.inv.GetCluster(ctx, c.Name); err != nil {
		return
	}
	cmd, err := s.inv.ClusterCommand(ctx, c.Name, inventory.OpStop)
	if err == nil {
		err = s.waitCommand(ctx, cmd.ID)
	}
	if err != nil {
		s.log.Warn("stop cluster before deletion", "cluster", c.Name, "err", err)
	}
}

// hostIDs are the cluster-manager hosts of VMs.
func (s *Service) hostIDs(ctx context.Context, vms []store.EcoVMRow) ([]string, error) {
	byAddr, err := s.hostsByAddress(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, v := range vms {
		if h, ok := byAddr[v.Address]; ok && v.Address != "" {
			ids = append(ids, h.ID)
		}
	}
	return ids, nil
}

func (s *Service) destroyVM(ctx context.Context, v store.EcoVMRow) error {
	v.Status = VMDeleting
	if err := s.updateVM(ctx, v); err != nil {
		return err
	}
	if err := s.cfg.Provider.Destroy(ctx, v.InstanceID); err != nil {
		return fmt.Errorf("destroy VM %s: %w", v.Name, err)
	}
	v.Status, v.DeletedAt = VMDeleted, s.cfg.Now()
	return s.updateVM(ctx, v)
}

// errClassification is a classification the mapping does not know; the
// parser refuses those first.
func errClassification(c string) error {
	return fmt.Errorf("classification %q has no place in the cluster", c)
}
