package jobs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"unicode"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/store"
)

// A virtual cluster's id is the first DNS label of its jobs API host, as
// in CDE (https://<vc-id>.cde-<service>.<domain>/dex/api/v1); "service"
// is the label of the Knox host, so no cluster may take it.
var vcIDRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

const knoxHostLabel = "service"

// The Spark masters runs can go to: local ones, and standalone masters
// (several host:port pairs for a master with standby masters).
var (
	localMasterRE      = regexp.MustCompile(`^local(\[(\*|[1-9][0-9]*)(,[1-9][0-9]*)?\])?$`)
	standaloneMasterRE = regexp.MustCompile(`^spark://[A-Za-z0-9.-]+:[0-9]{1,5}(,[A-Za-z0-9.-]+:[0-9]{1,5})*$`)
)

// ValidateMaster checks a virtual cluster's Spark master.
func ValidateMaster(master string) error {
	if localMasterRE.MatchString(master) || standaloneMasterRE.MatchString(master) {
		return nil
	}
	return apperr.New(apperr.Invalid, "spark master %q is not supported: want local, local[N], local[*] or a standalone master spark://host:port (YARN and Kubernetes masters are not)", master)
}

// VirtualClusterUpdate is a change of a virtual cluster; nil fields stay.
type VirtualClusterUpdate struct {
	Name        *string
	SparkMaster *string
}

// ListVirtualClusters returns every virtual cluster by id.
func (s *Service) ListVirtualClusters(ctx context.Context) ([]VirtualCluster, error) {
	rows, err := s.db.Read().ListVirtualClusters(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]VirtualCluster, len(rows))
	for i, r := range rows {
		out[i] = VirtualCluster(r)
	}
	return out, nil
}

// CreateVirtualCluster adds a virtual cluster; only admins may. The name
// defaults to the id and the master to local[*].
func (s *Service) CreateVirtualCluster(ctx context.Context, p auth.Principal, vc VirtualCluster) (VirtualCluster, error) {
	if err := requireAdmin(p); err != nil {
		return VirtualCluster{}, err
	}
	if vc.Name == "" {
		vc.Name = vc.ID
	}
	if vc.SparkMaster == "" {
		vc.SparkMaster = "local[*]"
	}
	if err := validateVC(vc); err != nil {
		return VirtualCluster{}, err
	}
	vc.CreatedAt = s.now()
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		return q.CreateVirtualCluster(ctx, store.VirtualClusterRow(vc))
	})
	if errors.Is(err, store.ErrConflict) {
		return VirtualCluster{}, apperr.New(apperr.Conflict, "a virtual cluster with id %q or name %q exists already", vc.ID, vc.Name)
	}
	if err != nil {
		return VirtualCluster{}, fmt.Errorf("create virtual cluster: %w", err)
	}
	s.forgetVCIDs()
	s.log.Info("virtual cluster created", "vc", vc.ID, "master", vc.SparkMaster, "by", p.User)
	return vc, nil
}

// UpdateVirtualCluster renames a virtual cluster or points its runs at
// another master; runs already live keep theirs. The default cluster's
// master is the server's spark-master setting, so it cannot change here.
func (s *Service) UpdateVirtualCluster(ctx context.Context, p auth.Principal, id string, up VirtualClusterUpdate) (VirtualCluster, error) {
	if err := requireAdmin(p); err != nil {
		return VirtualCluster{}, err
	}
	var vc VirtualCluster
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		row, err := q.GetVirtualCluster(ctx, id)
		if err != nil {
			return notFound(err, "virtual cluster", id)
		}
		vc = VirtualCluster(row)
		if up.Name != nil {
			vc.Name = *up.Name
		}
		if up.SparkMaster != nil && *up.SparkMaster != vc.SparkMaster {
			if id == DefaultVC {
				return apperr.New(apperr.Invalid, "the master of the default virtual cluster is the server's spark-master setting; change that and restart")
			}
			vc.SparkMaster = *up.SparkMaster
		}
		if err := validateVC(vc); err != nil {
			return err
		}
		err = q.UpdateVirtualCluster(ctx, store.VirtualClusterRow(vc))
		if errors.Is(err, store.ErrConflict) {
			return apperr.New(apperr.Conflict, "a virtual cluster named %q exists already", vc.Name)
		}
		return err
	})
	if err != nil {
		return VirtualCluster{}, err
	}
	s.log.Info("virtual cluster changed", "vc", vc.ID, "master", vc.SparkMaster, "by", p.User)
	return vc, nil
}

// DeleteVirtualCluster removes an empty virtual cluster: one without jobs,
// resources, credentials or live runs. Its ended runs go with it, with
// their directories.
func (s *Service) DeleteVirtualCluster(ctx context.Context, p auth.Principal, id string) error {
	if err := requireAdmin(p); err != nil {
		return err
	}
	if id == DefaultVC {
		return apperr.New(apperr.Conflict, "the default virtual cluster cannot be deleted")
	}
	var runs []int64
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		if _, err := q.GetVirtualCluster(ctx, id); err != nil {
			return notFound(err, "virtual cluster", id)
		}
		u, err := q.CountVirtualClusterUsage(ctx, id)
		if err != nil {
			return err
		}
		if u != (store.VirtualClusterUsage{}) {
			return apperr.New(apperr.Conflict, "virtual cluster %q still holds %d job(s), %d resource(s), %d credential(s) and %d live run(s); delete them first",
				id, u.Jobs, u.Resources, u.Credentials, u.LiveRuns)
		}
		runs, err = q.DeleteVirtualCluster(ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	s.forgetVCIDs()
	for _, r := range runs {
		if err := os.RemoveAll(s.runDir(r)); err != nil {
			s.log.Warn("remove the directory of a deleted run", "run", r, "err", err)
		}
	}
	s.log.Info("virtual cluster deleted", "vc", id, "runs", len(runs), "by", p.User)
	return nil
}

func validateVC(vc VirtualCluster) error {
	if !vcIDRE.MatchString(vc.ID) {
		return apperr.New(apperr.Invalid, "virtual cluster id %q must be a DNS label: 1 to 63 lowercase letters, digits and '-', not starting or ending with '-'", vc.ID)
	}
	if vc.ID == knoxHostLabel {
		return apperr.New(apperr.Invalid, "virtual cluster id %q is the label of the token service's host; choose another", vc.ID)
	}
	if strings.TrimSpace(vc.Name) == "" || len(vc.Name) > 100 || strings.ContainsFunc(vc.Name, unicode.IsControl) {
		return apperr.New(apperr.Invalid, "virtual cluster name %q must be 1 to 100 characters without control characters", vc.Name)
	}
	return ValidateMaster(vc.SparkMaster)
}

func requireAdmin(p auth.Principal) error {
	if !p.IsAdmin() {
		return apperr.New(apperr.Forbidden, "only admins may change virtual clusters; %q is %s", p.User, p.Role)
	}
	return nil
}

// VirtualClusterOfHost returns the virtual cluster a jobs API host names:
// the one whose id is the host's first DNS label, as in CDE; the default
// cluster for any other host (an address, localhost, the server's own
// name). It runs on every jobs API request, so the ids come from a cache.
func (s *Service) VirtualClusterOfHost(ctx context.Context, host string) (string, error) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, _, dotted := strings.Cut(strings.ToLower(host), ".")
	if !dotted || net.ParseIP(host) != nil || !vcIDRE.MatchString(label) || label == DefaultVC {
		return DefaultVC, nil
	}
	ids, err := s.loadVCIDs(ctx)
	if err != nil {
		return "", err
	}
	if !ids[label] {
		return DefaultVC, nil
	}
	return label, nil
}

// loadVCIDs returns the cached virtual cluster ids, reading them first if
// the cache is empty.
func (s *Service) loadVCIDs(ctx context.Context) (map[string]bool, error) {
	if ids := s.vcIDs.Load(); ids != nil {
		return *ids, nil
	}
	s.vcMu.Lock()
	defer s.vcMu.Unlock()
	if ids := s.vcIDs.Load(); ids != nil {
		return *ids, nil
	}
	vcs, err := s.db.Read().ListVirtualClusters(ctx)
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, len(vcs))
	for _, vc := range vcs {
		ids[vc.ID] = true
	}
	s.vcIDs.Store(&ids)
	return ids, nil
}

// forgetVCIDs empties the cache after a cluster was created or deleted. A
// load under way finishes first (vcMu), so it cannot store what it read
// before the change.
func (s *Service) forgetVCIDs() {
	s.vcMu.Lock()
	defer s.vcMu.Unlock()
	s.vcIDs.Store(nil)
}
