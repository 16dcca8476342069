package inventory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/store"
)

// Health summaries (Cloudera Manager's ApiHealthSummary).
const (
	HealthGood         = "GOOD"
	HealthConcerning   = "CONCERNING"
	HealthBad          = "BAD"
	HealthDisabled     = "DISABLED"
	HealthNotAvailable = "NOT_AVAILABLE"
)

// Role and service states (ApiRoleState, ApiServiceState).
const (
	StateStarted  = "STARTED"
	StateStarting = "STARTING"
	StateStopped  = "STOPPED"
	StateStopping = "STOPPING"
	StateUnknown  = "UNKNOWN"
)

// Check is one health check's outcome.
type Check struct {
	Name        string
	Summary     string
	Explanation string
}

// Health is an entity's health: a summary and the checks behind it.
type Health struct {
	Summary string
	Checks  []Check
}

var severity = map[string]int{HealthDisabled: 0, HealthGood: 1, HealthNotAvailable: 2, HealthConcerning: 3, HealthBad: 4}

func worst(checks []Check, base string) string {
	out := base
	for _, c := range checks {
		if severity[c.Summary] > severity[out] {
			out = c.Summary
		}
	}
	return out
}

func (s *Service) hostHealth(h HostInfo) Health {
	c := Check{Name: "HOST_AGENT_HEARTBEAT", Summary: HealthGood, Explanation: "The host's agent is in contact."}
	switch {
	case !h.Registered:
		c.Summary, c.Explanation = HealthBad, "No agent has registered for this host."
	case !h.Live:
		c.Summary = HealthBad
		c.Explanation = "The host's agent has not sent a heartbeat within its TTL of " + s.cfg.TTL.String() + "."
		if !h.LastHeartbeat.IsZero() {
			c.Explanation += " Last heartbeat: " + h.LastHeartbeat.UTC().Format(time.RFC3339) + "."
		}
	}
	return Health{Summary: c.Summary, Checks: []Check{c}}
}

// RoleStatus is a role's live state.
type RoleStatus struct {
	State       string
	Health      Health
	ConfigStale bool
	Report      agentapi.RoleStatus
	Reported    bool
}

// roleStatus derives a role's state and health from the inventory and its
// agent's last report. spec is the role's current desired state (for the
// config hash); nil when it cannot be rendered.
func (s *Service) roleStatus(r store.RoleRow, spec *agentapi.RoleSpec) RoleStatus {
	live, _ := s.hostLive(r.HostID)
	rep, reported, probed := s.roleReport(r.HostID, r.Name)
	st := RoleStatus{Report: rep, Reported: reported}
	if !live {
		st.State = StateUnknown
		st.Health = Health{Summary: HealthNotAvailable, Checks: []Check{{Name: "ROLE_HOST_HEALTH", Summary: HealthBad,
			Explanation: "The agent of host " + r.HostID + " is not in contact; the role's state is unknown."}}}
		return st
	}
	running := reported && rep.State == agentapi.StateRunning
	switch {
	case r.Desired == RoleStopped && (!reported || rep.State == agentapi.StateStopped || rep.State == agentapi.StateExited || rep.State == agentapi.StateFailed):
		st.State = StateStopped
	case r.Desired == RoleStopped:
		st.State = StateStopping
	case running && probed:
		st.State = StateStarted
	case running, !reported, rep.State == agentapi.StateStarting, rep.State == agentapi.StateBackoff:
		st.State = StateStarting
	case rep.State == agentapi.StateStopping:
		st.State = StateStopping
	default: // exited or failed while it should run
		st.State = StateStopped
	}
	if spec != nil && running && rep.ConfigHash != spec.ConfigHash {
		st.ConfigStale = true
	}
	if st.State == StateStopped && r.Desired == RoleStopped {
		st.Health = Health{Summary: HealthDisabled}
		return st
	}
	proc := Check{Name: "ROLE_PROCESS_STATUS", Summary: HealthGood, Explanation: "The role's process is running."}
	switch {
	case running:
	case rep.State == agentapi.StateExited, rep.State == agentapi.StateFailed, rep.State == agentapi.StateBackoff:
		proc.Summary = HealthBad
		proc.Explanation = "The role's process is not running: " + rep.State
		if rep.ExitCode != nil {
			proc.Explanation += ", exit code " + strconv.Itoa(*rep.ExitCode)
		}
		if rep.Message != "" {
			proc.Explanation += ": " + rep.Message
		}
	default:
		proc.Summary, proc.Explanation = HealthConcerning, "The role's process is "+st.State+"."
	}
	checks := []Check{proc}
	for _, name := range slices.Sorted(maps.Keys(rep.Probes)) {
		p := rep.Probes[name]
		c := Check{Name: "ROLE_PROBE_" + name, Summary: HealthGood, Explanation: "The probe answers."}
		if !p.OK {
			c.Summary, c.Explanation = HealthBad, "The probe fails: "+p.Error
			if !probed {
				c.Summary = HealthConcerning // still starting
			}
		}
		checks = append(checks, c)
	}
	if r.Type == "NAMENODE" && running {
		checks = append(checks, safeModeCheck("NAMENODE_SAFE_MODE", rep))
	}
	st.Health = Health{Summary: worst(checks, HealthGood), Checks: checks}
	return st
}

func safeModeCheck(name string, nn agentapi.RoleStatus) Check {
	c := Check{Name: name, Summary: HealthGood, Explanation: "The NameNode is not in safe mode."}
	state := fmt.Sprint(nn.Probes["fsnamesystem"].Fields["fsState"])
	switch state {
	case "Operational":
	case "", "<nil>":
		c.Summary, c.Explanation = HealthNotAvailable, "The NameNode's state is not known yet."
	default:
		c.Summary, c.Explanation = HealthConcerning, "The NameNode is in state "+state+"."
	}
	return c
}

// RoleView is a role with its live status.
type RoleView struct {
	store.RoleRow
	RoleStatus
}

// RoleViews returns the status of roles.
func (s *Service) RoleViews(ctx context.Context, roles []store.RoleRow) []RoleView {
	snap, _ := s.snapshot(ctx) // without one, nothing is known stale
	out := make([]RoleView, 0, len(roles))
	for _, r := range roles {
		var spec *agentapi.RoleSpec
		if sp, ok := snap.spec(r.Name); ok {
			spec = &sp
		}
		out = append(out, RoleView{RoleRow: r, RoleStatus: s.roleStatus(r, spec)})
	}
	return out
}

// ServiceView is a service with its live status.
type ServiceView struct {
	store.ServiceRow
	State       string
	Health      Health
	ConfigStale bool
}

// ServiceStatus derives a service's state and health from its roles'.
func (s *Service) ServiceStatus(ctx context.Context, svc store.ServiceRow) (ServiceView, error) {
	roles, err := s.db.Read().ListRoles(ctx, svc.Cluster, svc.Name)
	if err != nil {
		return ServiceView{}, err
	}
	views := s.RoleViews(ctx, roles)
	v := ServiceView{ServiceRow: svc}
	started, stopped, starting, stopping := 0, 0, 0, 0
	var checks []Check
	byType := map[string][]RoleView{}
	for _, rv := range views {
		byType[rv.Type] = append(byType[rv.Type], rv)
		v.ConfigStale = v.ConfigStale || rv.ConfigStale
		switch rv.State {
		case StateStarted:
			started++
		case StateStopped:
			stopped++
		case StateStarting:
			starting++
		case StateStopping:
			stopping++
		}
	}
	switch {
	case len(views) == 0 || stopped == len(views):
		v.State = StateStopped
	case starting > 0:
		v.State = StateStarting
	case stopping > 0:
		v.State = StateStopping
	case started > 0:
		v.State = StateStarted
	default:
		v.State = StateUnknown
	}
	allStopped := true
	for _, rv := range views {
		if rv.Desired == RoleStarted {
			allStopped = false
		}
	}
	if allStopped {
		v.Health = Health{Summary: HealthDisabled}
		return v, nil
	}
	switch svc.Type {
	case "HDFS":
		checks = append(checks, masterCheck("HDFS_NAMENODE_HEALTH", "NameNode", byType["NAMENODE"]))
		checks = append(checks, countCheck("HDFS_DATA_NODES_HEALTHY", "DataNodes", byType["NAMENODE"], "fsnamesystem", "liveDataNodes", byType["DATANODE"]))
		if nn := byType["NAMENODE"]; len(nn) > 0 && nn[0].Reported {
			checks = append(checks, safeModeCheck("HDFS_SAFE_MODE", nn[0].Report))
		}
	case "SPARK":
		checks = append(checks, masterCheck("SPARK_MASTER_HEALTH", "Master", byType["MASTER"]))
		checks = append(checks, countCheck("SPARK_ALIVE_WORKERS", "workers", byType["MASTER"], "master", "aliveWorkers", byType["WORKER"]))
	}
	summary := worst(checks, HealthGood)
	for _, rv := range views {
		if rv.Desired == RoleStarted && severity[rv.Health.Summary] > severity[HealthGood] && severity[summary] < severity[HealthConcerning] {
			summary = HealthConcerning
		}
	}
	v.Health = Health{Summary: summary, Checks: checks}
	return v, nil
}

// ClusterView is a cluster with its live status.
type ClusterView struct {
	Cluster
	State  string // STARTED when any service is not stopped
	Health Health // the worst of its services' health; DISABLED when all are
}

// ClusterStatus rolls a cluster's services' states and health up.
func (s *Service) ClusterStatus(ctx context.Context, c Cluster) (ClusterView, error) {
	services, err := s.db.Read().ListServices(ctx, c.Name)
	if err != nil {
		return ClusterView{}, err
	}
	v := ClusterView{Cluster: c, State: StateStopped}
	var checks []Check
	for _, svc := range services {
		sv, err := s.ServiceStatus(ctx, svc)
		if err != nil {
			return ClusterView{}, err
		}
		if sv.State != StateStopped {
			v.State = StateStarted
		}
		checks = append(checks, Check{Name: svc.Name, Summary: sv.Health.Summary})
	}
	v.Health = Health{Summary: worst(checks, HealthDisabled)}
	return v, nil
}

func masterCheck(name, what string, roles []RoleView) Check {
	if len(roles) == 0 {
		return Check{Name: name, Summary: HealthBad, Explanation: "The service has no " + what + " role."}
	}
	r := roles[0]
	return Check{Name: name, Summary: r.Health.Summary, Explanation: "The " + what + " " + r.Name + " is " + r.State + " with health " + r.Health.Summary + "."}
}

// countCheck compares how many members a master's probe counts with how
// many member roles should run.
func countCheck(name, what string, masters []RoleView, probe, field string, members []RoleView) Check {
	want := 0
	for _, m := range members {
		if m.Desired == RoleStarted {
			want++
		}
	}
	c := Check{Name: name, Summary: HealthGood}
	if len(masters) == 0 || !masters[0].Reported || masters[0].State != StateStarted {
		c.Summary, c.Explanation = HealthBad, "The number of live "+what+" is not known: the master role is not running."
		return c
	}
	v, ok := masters[0].Report.Probes[probe].Fields[field].(float64)
	if !ok {
		c.Summary, c.Explanation = HealthNotAvailable, "The master does not report its live "+what+" yet."
		return c
	}
	live := int(v)
	c.Explanation = fmt.Sprintf("%d of %d %s are live.", live, want, what)
	switch {
	case live >= want:
	case live > 0:
		c.Summary = HealthConcerning
	default:
		c.Summary = HealthBad
	}
	return c
}
