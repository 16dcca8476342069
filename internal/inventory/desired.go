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

type desiredCache struct {
	gen uint64
	d   agentapi.Desired
}

// Desired returns the desired state of a host's roles, rendered from the
// inventory (cached until the inventory next changes).
func (s *Service) Desired(ctx context.Context, hostID string) (agentapi.Desired, error) {
	gen, _ := s.desired.wait()
	s.mu.Lock()
	c, ok := s.cache[hostID]
	s.mu.Unlock()
	if ok && c.gen == gen {
		return c.d, nil
	}
	specs, err := s.renderHost(ctx, hostID)
	if err != nil {
		return agentapi.Desired{}, err
	}
	d := agentapi.Desired{Roles: specs}
	b, _ := json.Marshal(d.Roles)
	sum := sha256.Sum256(b)
	d.Hash = hex.EncodeToString(sum[:12])
	s.mu.Lock()
	s.cache[hostID] = desiredCache{gen: gen, d: d}
	s.mu.Unlock()
	return d, nil
}

// renderHost renders every role on a host. A role that cannot be rendered
// now (say, its service lost a role it depends on) keeps the last spec
// that rendered, with its run state brought up to date, so that a running
// process is not stopped by a render error; one that never rendered is
// left out and cannot start: its start command says why.
func (s *Service) renderHost(ctx context.Context, hostID string) ([]agentapi.RoleSpec, error) {
	q := s.db.Read()
	roles, err := q.ListHostRoles(ctx, hostID)
	if err != nil {
		return nil, err
	}
	specs := make([]agentapi.RoleSpec, 0, len(roles))
	for _, r := range roles {
		key := r.Cluster + "/" + r.Name
		spec, err := s.renderRole(ctx, q, r)
		s.mu.Lock()
		if err == nil {
			s.lastGood[key] = spec
		} else if last, ok := s.lastGood[key]; ok {
			s.log.Warn("cannot render role; keeping its last spec", "role", r.Name, "err", err)
			spec, err = last, nil
			spec.Run, spec.StartSeq = r.Desired == RoleStarted, r.StartSeq
		}
		s.mu.Unlock()
		if err != nil {
			s.log.Debug("cannot render role", "role", r.Name, "err", err)
			continue
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

// renderRole renders one role's desired state.
func (s *Service) renderRole(ctx context.Context, q *store.Queries, r store.RoleRow) (agentapi.RoleSpec, error) {
	svc, err := q.GetService(ctx, r.Cluster, r.Service)
	if err != nil {
		return agentapi.RoleSpec{}, err
	}
	t, ok := s.catalog.Type(svc.Type)
	if !ok {
		return agentapi.RoleSpec{}, fmt.Errorf("service type %s is not in the catalog", svc.Type)
	}
	cl, err := q.GetCluster(ctx, r.Cluster)
	if err != nil {
		return agentapi.RoleSpec{}, err
	}
	groups, err := q.ListGroups(ctx, r.Cluster, r.Service)
	if err != nil {
		return agentapi.RoleSpec{}, err
	}
	groupConfig := map[string]map[string]string{}
	for _, g := range groups {
		groupConfig[g.Name] = g.Config
	}
	peers, err := q.ListRoles(ctx, r.Cluster, r.Service)
	if err != nil {
		return agentapi.RoleSpec{}, err
	}
	hosts := map[string]servicetype.Host{}
	in := servicetype.RenderInput{Cluster: cl.Name, ClusterID: cl.UUID, Service: svc.Name, ServiceConfig: svc.Config}
	for _, p := range peers {
		h, ok := hosts[p.HostID]
		if !ok {
			if h, err = s.renderHostInfo(ctx, q, p.HostID); err != nil {
				return agentapi.RoleSpec{}, err
			}
			hosts[p.HostID] = h
		}
		ri := servicetype.RoleInstance{Name: p.Name, Type: p.Type, Host: h, Config: groupConfig[p.Group]}
		in.Peers = append(in.Peers, ri)
		if p.Name == r.Name {
			in.Role = ri
		}
	}
	spec, err := t.Render(in)
	if err != nil {
		return agentapi.RoleSpec{}, err
	}
	spec.Run = r.Desired == RoleStarted
	spec.StartSeq = r.StartSeq
	return spec, nil
}

func (s *Service) renderHostInfo(ctx context.Context, q *store.Queries, id string) (servicetype.Host, error) {
	h, err := q.GetHost(ctx, id)
	if err != nil {
		return servicetype.Host{}, err
	}
	facts, ok := s.hostFacts(id)
	if !ok {
		_ = json.Unmarshal(h.Facts, &facts)
	}
	return servicetype.Host{ID: h.ID, Hostname: h.Hostname, Address: h.Address, DataDir: facts.DataDir, Machine: facts.MachineID}, nil
}
