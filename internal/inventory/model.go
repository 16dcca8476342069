package inventory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/servicetype"
	"github.com/herdhq/herd/internal/store"
)

// Desired process states of a role.
const (
	RoleStarted = "STARTED"
	RoleStopped = "STOPPED"
)

// Cluster is a cluster.
type Cluster struct {
	Name        string
	DisplayName string
	Version     string // CDH5, ... (ApiClusterVersion)
	FullVersion string
	UUID        string
	CreatedAt   time.Time
}

func clusterOf(r store.ClusterRow) Cluster {
	return Cluster{Name: r.Name, DisplayName: r.DisplayName, Version: r.Version, FullVersion: r.FullVersion, UUID: r.UUID, CreatedAt: r.CreatedAt}
}

// Known cluster versions (Cloudera Manager's ApiClusterVersion).
var clusterVersions = map[string]string{"CDH3": "3.7.0", "CDH3u4X": "3.7.0", "CDH4": "4.7.1", "CDH5": "5.16.2", "CDH6": "6.3.2", "CDH7": "7.1.9"}

// NewCluster is a cluster to create. Version (CDH5, ...) and FullVersion
// (5.16.2, ...) may be given either or both; the missing one is derived.
type NewCluster struct {
	Name, DisplayName, Version, FullVersion string
}

// CreateCluster creates a cluster.
func (s *Service) CreateCluster(ctx context.Context, name, displayName, version, fullVersion string) (Cluster, error) {
	cs, err := s.CreateClusters(ctx, []NewCluster{{Name: name, DisplayName: displayName, Version: version, FullVersion: fullVersion}})
	if err != nil {
		return Cluster{}, err
	}
	return cs[0], nil
}

// CreateClusters creates clusters, all or none.
func (s *Service) CreateClusters(ctx context.Context, ncs []NewCluster) ([]Cluster, error) {
	if len(ncs) == 0 {
		return nil, apperr.New(apperr.Invalid, "no clusters given")
	}
	out := make([]Cluster, 0, len(ncs))
	for _, nc := range ncs {
		c, err := s.newCluster(nc)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	err := s.write(ctx, func(q *store.Queries) error {
		for _, c := range out {
			err := q.InsertCluster(ctx, store.ClusterRow{Name: c.Name, DisplayName: c.DisplayName, Version: c.Version, FullVersion: c.FullVersion, UUID: c.UUID, CreatedAt: c.CreatedAt})
			if err != nil {
				return conflict(err, "cluster %q already exists", c.Name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// newCluster checks a cluster to create and fills in what is derived.
func (s *Service) newCluster(nc NewCluster) (Cluster, error) {
	name, version, fullVersion := nc.Name, nc.Version, nc.FullVersion
	if strings.TrimSpace(name) == "" || len(name) > 200 || strings.ContainsAny(name, "/\x00\n") {
		return Cluster{}, apperr.New(apperr.Invalid, "cluster name %q is empty, too long or has '/' or a control character", name)
	}
	major := "CDH" + strings.SplitN(fullVersion, ".", 2)[0]
	switch {
	case version == "" && fullVersion == "":
		version, fullVersion = "CDH5", clusterVersions["CDH5"]
	case version == "":
		version = major
		if _, ok := clusterVersions[version]; !ok {
			return Cluster{}, apperr.New(apperr.Invalid, "fullVersion %q does not name a known major version (3 to 7)", fullVersion)
		}
	default:
		fv, ok := clusterVersions[version]
		if !ok {
			return Cluster{}, apperr.New(apperr.Invalid, "version %q is not one of CDH3, CDH3u4X, CDH4, CDH5, CDH6, CDH7", version)
		}
		if fullVersion == "" {
			fullVersion = fv
		} else if major != version && (version != "CDH3u4X" || major != "CDH3") {
			return Cluster{}, apperr.New(apperr.Invalid, "fullVersion %q is not a version of %s", fullVersion, version)
		}
	}
	displayName := nc.DisplayName
	if displayName == "" {
		displayName = name
	}
	return Cluster{Name: name, DisplayName: displayName, Version: version, FullVersion: fullVersion, UUID: s.cfg.NewID(), CreatedAt: s.cfg.Now()}, nil
}

// GetCluster returns a cluster.
func (s *Service) GetCluster(ctx context.Context, name string) (Cluster, error) {
	r, err := s.db.Read().GetCluster(ctx, name)
	if err != nil {
		return Cluster{}, notFound(err, "cluster '%s' not found", name)
	}
	return clusterOf(r), nil
}

// ListClusters returns every cluster.
func (s *Service) ListClusters(ctx context.Context) ([]Cluster, error) {
	rows, err := s.db.Read().ListClusters(ctx)
	out := make([]Cluster, 0, len(rows))
	for _, r := range rows {
		out = append(out, clusterOf(r))
	}
	return out, err
}

// DeleteCluster deletes a cluster whose roles are all stopped.
func (s *Service) DeleteCluster(ctx context.Context, name string) (Cluster, error) {
	c, err := s.GetCluster(ctx, name)
	if err != nil {
		return Cluster{}, err
	}
	if err := s.checkIdle(name, "", ""); err != nil {
		return Cluster{}, err
	}
	var roles []store.RoleRow
	err = s.write(ctx, func(q *store.Queries) error {
		var err error
		if roles, err = q.ListRoles(ctx, name, ""); err != nil {
			return err
		}
		if err := s.refuseRunning(roles, "delete cluster '"+name+"'"); err != nil {
			return err
		}
		return q.DeleteCluster(ctx, name)
	})
	if err == nil {
		s.forget(roles)
	}
	return c, err
}

// forget drops what is remembered of deleted roles, so that a new role of
// the same name starts afresh.
func (s *Service) forget(roles []store.RoleRow) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	for _, r := range roles {
		delete(s.lastGood, r.Name)
	}
}

// refuseRunning fails when any of the roles should run or still runs.
func (s *Service) refuseRunning(roles []store.RoleRow, what string) error {
	var running []string
	for _, r := range roles {
		rep, ok, _ := s.roleReport(r.HostID, r.Name)
		if r.Desired == RoleStarted || (ok && rep.State != "" && rep.State != "stopped" && rep.State != "exited" && rep.State != "failed") {
			running = append(running, r.Name)
		}
	}
	if len(running) > 0 {
		return apperr.New(apperr.Invalid, "cannot %s: roles %s are not stopped; stop them first", what, strings.Join(running, ", "))
	}
	return nil
}

// HostInfo is a host as the API shows it.
type HostInfo struct {
	ID, Hostname, Address, Rack, Cluster string
	Cores                                int
	MemoryBytes                          int64
	Live                                 bool
	LastHeartbeat                        time.Time
	Registered                           bool // an agent has registered for it
	Roles                                []store.RoleRow
	Health                               Health
}

func (s *Service) hostInfo(h store.HostRow, roles []store.RoleRow) HostInfo {
	hi := HostInfo{ID: h.ID, Hostname: h.Hostname, Address: h.Address, Rack: h.Rack, Cluster: h.Cluster, Registered: len(h.SecretHash) > 0, Roles: roles}
	live, seen := s.hostLive(h.ID)
	hi.Live, hi.LastHeartbeat = live, seen
	if seen.IsZero() {
		hi.LastHeartbeat = h.LastSeenAt
	}
	if f, ok := s.hostFacts(h.ID); ok {
		hi.Cores, hi.MemoryBytes = f.Cores, f.MemoryBytes
	}
	hi.Health = s.hostHealth(hi)
	return hi
}

// NewHost is a host to create before its agent registers.
type NewHost struct {
	ID, Hostname, Address, Rack string
}

// CreateHost records a host before its agent registers.
func (s *Service) CreateHost(ctx context.Context, id, hostname, address, rack string) (HostInfo, error) {
	hs, err := s.CreateHosts(ctx, []NewHost{{ID: id, Hostname: hostname, Address: address, Rack: rack}})
	if err != nil {
		return HostInfo{}, err
	}
	return hs[0], nil
}

// CreateHosts records hosts before their agents register, all or none.
func (s *Service) CreateHosts(ctx context.Context, nhs []NewHost) ([]HostInfo, error) {
	if len(nhs) == 0 {
		return nil, apperr.New(apperr.Invalid, "no hosts given")
	}
	rows := make([]store.HostRow, 0, len(nhs))
	for _, nh := range nhs {
		if !validName(nh.ID) {
			return nil, apperr.New(apperr.Invalid, "hostId %q may hold only letters, digits, '.', '-' and '_'", nh.ID)
		}
		if nh.Hostname == "" {
			nh.Hostname = nh.ID
		}
		if nh.Address != "" && net.ParseIP(nh.Address) == nil {
			return nil, apperr.New(apperr.Invalid, "ipAddress %q is not an IP address", nh.Address)
		}
		if nh.Rack == "" {
			nh.Rack = "/default"
		}
		rows = append(rows, store.HostRow{ID: nh.ID, Hostname: nh.Hostname, Address: nh.Address, Rack: nh.Rack, CreatedAt: s.cfg.Now()})
	}
	err := s.write(ctx, func(q *store.Queries) error {
		for _, row := range rows {
			if err := q.InsertHost(ctx, row); err != nil {
				return conflict(err, "host %q already exists", row.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]HostInfo, 0, len(rows))
	for _, row := range rows {
		out = append(out, s.hostInfo(row, nil))
	}
	return out, nil
}

// GetHost returns a host.
func (s *Service) GetHost(ctx context.Context, id string) (HostInfo, error) {
	q := s.db.Read()
	h, err := q.GetHost(ctx, id)
	if err != nil {
		return HostInfo{}, notFound(err, "host '%s' not found", id)
	}
	roles, err := q.ListHostRoles(ctx, id)
	return s.hostInfo(h, roles), err
}

// ListHosts returns the hosts, all or those of a cluster.
func (s *Service) ListHosts(ctx context.Context, cluster string) ([]HostInfo, error) {
	q := s.db.Read()
	if cluster != "" {
		if _, err := s.GetCluster(ctx, cluster); err != nil {
			return nil, err
		}
	}
	hosts, err := q.ListHosts(ctx, cluster)
	if err != nil {
		return nil, err
	}
	roles, err := q.ListAllRoles(ctx)
	if err != nil {
		return nil, err
	}
	byHost := map[string][]store.RoleRow{}
	for _, r := range roles {
		byHost[r.HostID] = append(byHost[r.HostID], r)
	}
	out := make([]HostInfo, 0, len(hosts))
	for _, h := range hosts {
		out = append(out, s.hostInfo(h, byHost[h.ID]))
	}
	return out, nil
}

// DeleteHost deletes a host without roles.
func (s *Service) DeleteHost(ctx context.Context, id string) (HostInfo, error) {
	h, err := s.GetHost(ctx, id)
	if err != nil {
		return HostInfo{}, err
	}
	if len(h.Roles) > 0 {
		return HostInfo{}, apperr.New(apperr.Invalid, "host '%s' still has %d roles; delete them first", id, len(h.Roles))
	}
	err = s.write(ctx, func(q *store.Queries) error { return q.DeleteHost(ctx, id) })
	s.mu.Lock()
	delete(s.live, id)
	delete(s.secrets, id)
	s.mu.Unlock()
	return h, err
}

// AddHosts puts hosts into a cluster.
func (s *Service) AddHosts(ctx context.Context, cluster string, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, apperr.New(apperr.Invalid, "no hosts given")
	}
	err := s.write(ctx, func(q *store.Queries) error {
		if _, err := q.GetCluster(ctx, cluster); err != nil {
			return notFound(err, "cluster '%s' not found", cluster)
		}
		for _, id := range ids {
			h, err := q.GetHost(ctx, id)
			if err != nil {
				return notFound(err, "host '%s' not found", id)
			}
			if h.Cluster != "" && h.Cluster != cluster {
				return apperr.New(apperr.Invalid, "host '%s' already belongs to cluster '%s'", id, h.Cluster)
			}
			if err := q.SetHostCluster(ctx, id, cluster); err != nil {
				return err
			}
		}
		return nil
	})
	return ids, err
}

// RemoveHost takes a host without roles of the cluster out of it.
func (s *Service) RemoveHost(ctx context.Context, cluster, id string) error {
	return s.write(ctx, func(q *store.Queries) error {
		h, err := q.GetHost(ctx, id)
		if err != nil {
			return notFound(err, "host '%s' not found", id)
		}
		if h.Cluster != cluster {
			return apperr.New(apperr.NotFound, "host '%s' is not in cluster '%s'", id, cluster)
		}
		roles, err := q.ListHostRoles(ctx, id)
		if err != nil {
			return err
		}
		if len(roles) > 0 {
			return apperr.New(apperr.Invalid, "host '%s' still has roles of cluster '%s' (%s); delete them first", id, cluster, roles[0].Name)
		}
		return q.SetHostCluster(ctx, id, "")
	})
}

// ServiceRow re-exports the store's service for API packages that only read.
type ServiceRow = store.ServiceRow

// NewService is a service to create.
type NewService struct {
	Name, Type, DisplayName string
}

// CreateService creates a service of a catalog type with one base role
// config group per role type.
func (s *Service) CreateService(ctx context.Context, cluster, name, typ, displayName string) (store.ServiceRow, error) {
	rows, err := s.CreateServices(ctx, cluster, []NewService{{Name: name, Type: typ, DisplayName: displayName}})
	if err != nil {
		return store.ServiceRow{}, err
	}
	return rows[0], nil
}

// CreateServices creates services of a cluster, all or none.
func (s *Service) CreateServices(ctx context.Context, cluster string, nss []NewService) ([]store.ServiceRow, error) {
	if len(nss) == 0 {
		return nil, apperr.New(apperr.Invalid, "no services given")
	}
	rows := make([]store.ServiceRow, 0, len(nss))
	for _, ns := range nss {
		if _, ok := s.catalog.Type(ns.Type); !ok {
			return nil, apperr.New(apperr.Invalid, "unknown service type '%s'; known types: %s", ns.Type, strings.Join(s.catalog.Names(), ", "))
		}
		if !validName(ns.Name) {
			return nil, apperr.New(apperr.Invalid, "service name %q may hold only letters, digits, '.', '-' and '_'", ns.Name)
		}
		if ns.DisplayName == "" {
			ns.DisplayName = ns.Name
		}
		rows = append(rows, store.ServiceRow{Cluster: cluster, Name: ns.Name, Type: ns.Type, DisplayName: ns.DisplayName, Config: map[string]string{}, CreatedAt: s.cfg.Now()})
	}
	err := s.write(ctx, func(q *store.Queries) error {
		if _, err := q.GetCluster(ctx, cluster); err != nil {
			return notFound(err, "cluster '%s' not found", cluster)
		}
		for _, row := range rows {
			if err := q.InsertService(ctx, row); err != nil {
				return conflict(err, "service '%s' already exists in cluster '%s'", row.Name, cluster)
			}
			t, _ := s.catalog.Type(row.Type)
			for _, rtName := range t.RoleTypeNames() {
				rt, _ := t.RoleType(rtName)
				disp := rt.DisplayName
				if disp == "" {
					disp = rt.Name
				}
				if err := q.InsertGroup(ctx, store.GroupRow{Cluster: cluster, Service: row.Name, Name: row.Name + "-" + rtName + "-BASE",
					RoleType: rtName, DisplayName: disp + " Default Group", Base: true}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// GetService returns a service.
func (s *Service) GetService(ctx context.Context, cluster, name string) (store.ServiceRow, error) {
	q := s.db.Read()
	if _, err := q.GetCluster(ctx, cluster); err != nil {
		return store.ServiceRow{}, notFound(err, "cluster '%s' not found", cluster)
	}
	r, err := q.GetService(ctx, cluster, name)
	return r, notFound(err, "service '%s' not found in cluster '%s'", name, cluster)
}

// ListServices returns a cluster's services.
func (s *Service) ListServices(ctx context.Context, cluster string) ([]store.ServiceRow, error) {
	if _, err := s.GetCluster(ctx, cluster); err != nil {
		return nil, err
	}
	return s.db.Read().ListServices(ctx, cluster)
}

// DeleteService deletes a service whose roles are all stopped.
func (s *Service) DeleteService(ctx context.Context, cluster, name string) (store.ServiceRow, error) {
	svc, err := s.GetService(ctx, cluster, name)
	if err != nil {
		return svc, err
	}
	if err := s.checkIdle(cluster, name, ""); err != nil {
		return svc, err
	}
	var roles []store.RoleRow
	err = s.write(ctx, func(q *store.Queries) error {
		var err error
		if roles, err = q.ListRoles(ctx, cluster, name); err != nil {
			return err
		}
		if err := s.refuseRunning(roles, "delete service '"+name+"'"); err != nil {
			return err
		}
		return q.DeleteService(ctx, cluster, name)
	})
	if err == nil {
		s.forget(roles)
	}
	return svc, err
}

// NewRole is a role to create.
type NewRole struct {
	Name   string // generated when empty: <service>-<TYPE>-<32 hex>
	Type   string
	HostID string
	Group  string // the type's base group when empty
}

// CreateRoles creates roles of a service, all or none.
func (s *Service) CreateRoles(ctx context.Context, cluster, service string, roles []NewRole) ([]store.RoleRow, error) {
	if len(roles) == 0 {
		return nil, apperr.New(apperr.Invalid, "no roles given")
	}
	var out []store.RoleRow
	err := s.write(ctx, func(q *store.Queries) error {
		if _, err := q.GetCluster(ctx, cluster); err != nil {
			return notFound(err, "cluster '%s' not found", cluster)
		}
		svc, err := q.GetService(ctx, cluster, service)
		if err != nil {
			return notFound(err, "service '%s' not found in cluster '%s'", service, cluster)
		}
		t, _ := s.catalog.Type(svc.Type)
		existing, err := q.ListRoles(ctx, cluster, service)
		if err != nil {
			return err
		}
		count := map[string]int{}
		for _, r := range existing {
			count[r.Type]++
		}
		for _, nr := range roles {
			rt, ok := t.RoleType(nr.Type)
			if !ok {
				names := t.RoleTypeNames()
				sort.Strings(names)
				return apperr.New(apperr.Invalid, "unknown role type '%s' for service type %s; known role types: %s", nr.Type, svc.Type, strings.Join(names, ", "))
			}
			if count[nr.Type]++; rt.Max > 0 && count[nr.Type] > rt.Max {
				return apperr.New(apperr.Invalid, "service '%s' can have at most %d %s role(s)", service, rt.Max, nr.Type)
			}
			if nr.HostID == "" {
				return apperr.New(apperr.Invalid, "role %s needs hostRef.hostId", nr.Name)
			}
			h, err := q.GetHost(ctx, nr.HostID)
			if err != nil {
				return notFound(err, "host '%s' not found", nr.HostID)
			}
			if h.Cluster != cluster {
				return apperr.New(apperr.Invalid, "host '%s' is not in cluster '%s'; add it to the cluster first", nr.HostID, cluster)
			}
			name := nr.Name
			if name == "" {
				name = fmt.Sprintf("%s-%s-%s", service, nr.Type, randomHex(16))
			}
			if !validName(name) {
				return apperr.New(apperr.Invalid, "role name %q may hold only letters, digits, '.', '-' and '_'", name)
			}
			group := nr.Group
			if group == "" {
				group = service + "-" + nr.Type + "-BASE"
			}
			g, err := q.GetGroup(ctx, cluster, service, group)
			if err != nil {
				return notFound(err, "role config group '%s' not found in service '%s'", group, service)
			}
			if g.RoleType != nr.Type {
				return apperr.New(apperr.Invalid, "role config group '%s' is for %s roles, not %s", group, g.RoleType, nr.Type)
			}
			row := store.RoleRow{Name: name, Cluster: cluster, Service: service, Type: nr.Type, HostID: nr.HostID, Group: group,
				Desired: RoleStopped, CommissionState: "COMMISSIONED", CreatedAt: s.cfg.Now()}
			if err := q.InsertRole(ctx, row); err != nil {
				return conflict(err, "role '%s' already exists", name)
			}
			out = append(out, row)
		}
		return nil
	})
	return out, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// GetRole returns a role of a service.
func (s *Service) GetRole(ctx context.Context, cluster, service, name string) (store.RoleRow, error) {
	if _, err := s.GetService(ctx, cluster, service); err != nil {
		return store.RoleRow{}, err
	}
	r, err := s.db.Read().GetRole(ctx, name)
	if err != nil || r.Cluster != cluster || r.Service != service {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return store.RoleRow{}, apperr.New(apperr.NotFound, "role '%s' not found in service '%s'", name, service)
		}
		return store.RoleRow{}, err
	}
	return r, nil
}

// ListRoles returns a service's roles.
func (s *Service) ListRoles(ctx context.Context, cluster, service string) ([]store.RoleRow, error) {
	if _, err := s.GetService(ctx, cluster, service); err != nil {
		return nil, err
	}
	return s.db.Read().ListRoles(ctx, cluster, service)
}

// DeleteRole deletes a stopped role.
func (s *Service) DeleteRole(ctx context.Context, cluster, service, name string) (store.RoleRow, error) {
	r, err := s.GetRole(ctx, cluster, service, name)
	if err != nil {
		return r, err
	}
	if err := s.checkIdle(cluster, service, name); err != nil {
		return r, err
	}
	err = s.write(ctx, func(q *store.Queries) error {
		if err := s.refuseRunning([]store.RoleRow{r}, "delete role '"+name+"'"); err != nil {
			return err
		}
		return q.DeleteRole(ctx, name)
	})
	if err == nil {
		s.forget([]store.RoleRow{r})
	}
	return r, err
}

// GetGroup returns a role config group.
func (s *Service) GetGroup(ctx context.Context, cluster, service, name string) (store.GroupRow, error) {
	if _, err := s.GetService(ctx, cluster, service); err != nil {
		return store.GroupRow{}, err
	}
	g, err := s.db.Read().GetGroup(ctx, cluster, service, name)
	return g, notFound(err, "role config group '%s' not found in service '%s'", name, service)
}

// ListGroups returns a service's role config groups.
func (s *Service) ListGroups(ctx context.Context, cluster, service string) ([]store.GroupRow, error) {
	if _, err := s.GetService(ctx, cluster, service); err != nil {
		return nil, err
	}
	return s.db.Read().ListGroups(ctx, cluster, service)
}

// ServiceType returns the catalog type of a service.
func (s *Service) ServiceType(typ string) (*servicetype.ServiceType, bool) {
	return s.catalog.Type(typ)
}

// DropCluster deletes a cluster, if it still exists, and the given hosts,
// whatever their roles last reported: for a host provider once the
// machines are gone and nothing is left to stop.
func (s *Service) DropCluster(ctx context.Context, name string, hostIDs []string) error {
	roles, err := s.db.Read().ListRoles(ctx, name, "")
	if err != nil {
		return err
	}
	err = s.write(ctx, func(q *store.Queries) error {
		if err := q.DeleteCluster(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		for _, id := range hostIDs {
			if err := q.DeleteHost(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.forget(roles)
	s.mu.Lock()
	for _, id := range hostIDs {
		delete(s.live, id)
		delete(s.secrets, id)
	}
	s.mu.Unlock()
	return nil
}
