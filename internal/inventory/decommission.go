package inventory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/store"
)

// Commission states of roles.
const (
	Commissioned    = "COMMISSIONED"
	Decommissioning = "DECOMMISSIONING"
	Decommissioned  = "DECOMMISSIONED"
)

// DecommissionTimeout bounds how long a DataNode decommission may take.
const DecommissionTimeout = 30 * time.Minute

// Decommission decommissions DataNodes of an HDFS service gracefully, as
// Cloudera Manager's decommission command does: the NameNode re-replicates
// their blocks to the other DataNodes first (it learns which through its
// exclude file and a refresh), then they are DECOMMISSIONED and can be
// stopped and removed without loss. Roles of other types are refused.
func (s *Service) Decommission(ctx context.Context, cluster, service string, names []string) (Command, error) {
	svc, err := s.GetService(ctx, cluster, service)
	if err != nil {
		return Command{}, err
	}
	if svc.Type != "HDFS" {
		return Command{}, apperr.New(apperr.Invalid, "service %s is of type %s; only HDFS DataNodes can be decommissioned", service, svc.Type)
	}
	if len(names) == 0 {
		return Command{}, apperr.New(apperr.Invalid, "name the DataNodes to decommission")
	}
	roles, err := s.db.Read().ListRoles(ctx, cluster, service)
	if err != nil {
		return Command{}, err
	}
	var nn *store.RoleRow
	byName := map[string]store.RoleRow{}
	for i, r := range roles {
		byName[r.Name] = r
		if r.Type == "NAMENODE" {
			nn = &roles[i]
		}
	}
	for _, n := range names {
		r, ok := byName[n]
		switch {
		case !ok:
			return Command{}, apperr.New(apperr.NotFound, "role '%s' not found in service '%s'", n, service)
		case r.Type != "DATANODE":
			return Command{}, apperr.New(apperr.Invalid, "role %s is a %s; only DataNodes can be decommissioned", n, r.Type)
		}
	}
	if nn == nil {
		return Command{}, apperr.New(apperr.Invalid, "service %s has no NameNode to decommission through", service)
	}
	return s.begin(ctx, store.CommandRow{Name: "Decommission", Cluster: cluster, Service: service}, func(ctx context.Context, _ int64) error {
		err := s.write(ctx, func(q *store.Queries) error {
			for _, n := range names {
				if byName[n].CommissionState != Decommissioned {
					if err := q.SetRoleCommissionState(ctx, n, Decommissioning); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := s.waitDecommissioned(ctx, *nn, len(names)); err != nil {
			return fmt.Errorf("decommission %v: %w", names, err)
		}
		return s.write(ctx, func(q *store.Queries) error {
			for _, n := range names {
				if err := q.SetRoleCommissionState(ctx, n, Decommissioned); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// waitDecommissioned waits until the NameNode has applied its new exclude
// file and reports no DataNode decommissioning and at least n
// decommissioned.
func (s *Service) waitDecommissioned(ctx context.Context, nn store.RoleRow, n int) error {
	spec, err := s.roleSpec(ctx, nn.Name)
	if err != nil {
		return err
	}
	if spec.Refresh == nil {
		return fmt.Errorf("the NameNode's descriptor has no refresh")
	}
	want := spec.Refresh.Hash
	return s.waitRole(ctx, nn, DecommissionTimeout, func(rep agentapi.RoleStatus, reported bool) (bool, error) {
		if !reported || rep.State != agentapi.StateRunning {
			return false, fmt.Errorf("the NameNode is not running")
		}
		if rep.RefreshHash != want {
			if strings.HasPrefix(rep.Message, "refresh") { // the agent's message of a failed refresh
				return false, fmt.Errorf("the NameNode's refresh failed: %s", rep.Message)
			}
			return false, nil
		}
		p := rep.Probes["fsnamesystem"]
		if !p.OK || p.At.IsZero() {
			return false, nil
		}
		decommissioning, _ := p.Fields["decommissioning"].(float64)
		decommissioned, _ := p.Fields["decommissioned"].(float64)
		return decommissioning == 0 && int(decommissioned) >= n, nil
	})
}
