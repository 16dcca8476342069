package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/servicetype"
	"github.com/herdhq/herd/internal/store"
)

// snapshot is the desired state of every role, rendered for one
// generation of the inventory. It is built once per generation, for all
// hosts together: rendering a role needs its whole service, so rendering
// per host would repeat a service's work for each of its hosts.
type snapshot struct {
	gen   uint64
	specs map[string]agentapi.RoleSpec // by role name; with Run and StartSeq
	errs  map[string]error             // by role name: why it does not render now
	hosts map[string]agentapi.Desired  // by host id
	empty agentapi.Desired             // of a host without roles
}

// Desired returns the desired state of a host's roles.
func (s *Service) Desired(ctx context.Context, hostID string) (agentapi.Desired, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return agentapi.Desired{}, err
	}
	if d, ok := snap.hosts[hostID]; ok {
		return d, nil
	}
	return snap.empty, nil
}

// snapshot returns the current generation's snapshot, building it when
// the inventory has changed. One build runs at a time, and it is not cut
// short when the caller gives up: it is shared by every caller.
func (s *Service) snapshot(ctx context.Context) (*snapshot, error) {
	gen, _ := s.desired.wait()
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if s.snap != nil && s.snap.gen >= gen {
		return s.snap, nil
	}
	snap, err := s.buildSnapshot(context.WithoutCancel(ctx), gen)
	if err != nil {
		return nil, fmt.Errorf("render desired state: %w", err)
	}
	s.snap = snap
	return snap, nil
}

// buildSnapshot renders every role. A role that cannot be rendered now
// (say, its service lost a role it depends on) keeps the last spec that
// rendered, with its run state brought up to date, so that a render error
// never stops a running process; one that never rendered is left out and
// cannot start: its start command says why. Called with snapMu held.
func (s *Service) buildSnapshot(ctx context.Context, gen uint64) (*snapshot, error) {
	q := s.db.Read()
	roles, err := q.ListAllRoles(ctx)
	if err != nil {
		return nil, err
	}
	hostRows, err := q.ListHosts(ctx, "")
	if err != nil {
		return nil, err
	}
	hosts := make(map[string]servicetype.Host, len(hostRows))
	for _, h := range hostRows {
		hosts[h.ID] = s.renderHostInfo(h)
	}
	type svcKey struct{ cluster, service string }
	byService := map[svcKey][]store.RoleRow{}
	for _, r := range roles {
		k := svcKey{r.Cluster, r.Service}
		byService[k] = append(byService[k], r)
	}
	snap := &snapshot{gen: gen, specs: make(map[string]agentapi.RoleSpec, len(roles)), errs: map[string]error{}}
	clusters := map[string]store.ClusterRow{}
	for k, rs := range byService {
		specs, errs := s.renderService(ctx, q, clusters, k.cluster, k.service, rs, hosts)
		for _, r := range rs {
			spec, ok := specs[r.Name]
			if ok {
				s.lastGood[r.Name] = spec
			} else {
				snap.errs[r.Name] = errs[r.Name]
				if spec, ok = s.lastGood[r.Name]; !ok {
					s.log.Debug("cannot render role", "role", r.Name, "err", errs[r.Name])
					continue
				}
				s.log.Warn("cannot render role; keeping its last spec", "role", r.Name, "err", errs[r.Name])
			}
			spec.Run, spec.StartSeq = r.Desired == RoleStarted, r.StartSeq
			snap.specs[r.Name] = spec
		}
	}
	perHost := map[string][]agentapi.RoleSpec{}
	for _, r := range roles { // by name
		if spec, ok := snap.specs[r.Name]; ok {
			perHost[r.HostID] = append(perHost[r.HostID], spec)
		}
	}
	snap.hosts = make(map[string]agentapi.Desired, len(perHost))
	for h, specs := range perHost {
		snap.hosts[h] = desiredOf(specs)
	}
	snap.empty = desiredOf([]agentapi.RoleSpec{})
	return snap, nil
}

func desiredOf(specs []agentapi.RoleSpec) agentapi.Desired {
	b, _ := json.Marshal(specs)
	sum := sha256.Sum256(b)
	return agentapi.Desired{Roles: specs, Hash: hex.EncodeToString(sum[:12])}
}

// renderService renders the roles of one service; errs says why a role
// could not be rendered, by name.
func (s *Service) renderService(ctx context.Context, q *store.Queries, clusters map[string]store.ClusterRow, cluster, service string,
	roles []store.RoleRow, hosts map[string]servicetype.Host) (map[string]agentapi.RoleSpec, map[string]error) {
	fail := func(err error) (map[string]agentapi.RoleSpec, map[string]error) {
		errs := map[string]error{}
		for _, r := range roles {
			errs[r.Name] = err
		}
		return nil, errs
	}
	svc, err := q.GetService(ctx, cluster, service)
	if err != nil {
		return fail(err)
	}
	t, ok := s.catalog.Type(svc.Type)
	if !ok {
		return fail(fmt.Errorf("service type %s is not in the catalog", svc.Type))
	}
	cl, ok := clusters[cluster]
	if !ok {
		if cl, err = q.GetCluster(ctx, cluster); err != nil {
			return fail(err)
		}
		clusters[cluster] = cl
	}
	groups, err := q.ListGroups(ctx, cluster, service)
	if err != nil {
		return fail(err)
	}
	groupConfig := map[string]map[string]string{}
	for _, g := range groups {
		groupConfig[g.Name] = g.Config
	}
	in := servicetype.RenderInput{Cluster: cl.Name, ClusterID: cl.UUID, Service: svc.Name, ServiceConfig: svc.Config}
	for _, r := range roles {
		in.Peers = append(in.Peers, servicetype.RoleInstance{Name: r.Name, Type: r.Type, Host: hosts[r.HostID], Config: groupConfig[r.Group],
			CommissionState: r.CommissionState})
	}
	return t.RenderAll(in)
}

// renderHostInfo is what rendering knows of a host: its row, and the facts
// of its agent's last report (or of the store, before one).
func (s *Service) renderHostInfo(h store.HostRow) servicetype.Host {
	facts, ok := s.hostFacts(h.ID)
	if !ok {
		_ = json.Unmarshal(h.Facts, &facts)
	}
	return servicetype.Host{ID: h.ID, Hostname: h.Hostname, Address: h.Address, DataDir: facts.DataDir, Machine: facts.MachineID}
}

// roleSpec returns a role's current spec from the snapshot, or why it does
// not render now.
func (s *Service) roleSpec(ctx context.Context, name string) (*agentapi.RoleSpec, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if err := snap.errs[name]; err != nil {
		return nil, err
	}
	spec, ok := snap.specs[name]
	if !ok {
		return nil, fmt.Errorf("role %s is not in the inventory", name)
	}
	return &spec, nil
}

// spec returns a role's spec from a snapshot that may be nil.
func (snap *snapshot) spec(name string) (agentapi.RoleSpec, bool) {
	if snap == nil {
		return agentapi.RoleSpec{}, false
	}
	spec, ok := snap.specs[name]
	return spec, ok
}
