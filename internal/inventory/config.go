package inventory

import (
	"context"
	"sort"
	"strings"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/servicetype"
	"github.com/herdhq/herd/internal/store"
)

// ConfigItem is one parameter with its value, if set.
type ConfigItem struct {
	Param *servicetype.Param
	Value string
	Set   bool
}

// ConfigUpdate is one change: Value nil resets the parameter to its default.
type ConfigUpdate struct {
	Name  string
	Value *string
}

func items(params []servicetype.Param, set map[string]string) []ConfigItem {
	out := make([]ConfigItem, 0, len(params))
	for i := range params {
		p := &params[i]
		v, ok := set[p.Name]
		out = append(out, ConfigItem{Param: p, Value: v, Set: ok})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Param.Name < out[j].Param.Name })
	return out
}

// applyUpdates validates every update against params (all or none) and
// returns the new set values.
func applyUpdates(params func(string) (*servicetype.Param, bool), set map[string]string, updates []ConfigUpdate, where string) (map[string]string, error) {
	next := make(map[string]string, len(set))
	for k, v := range set {
		next[k] = v
	}
	var problems []string
	for _, u := range updates {
		p, ok := params(u.Name)
		if !ok {
			problems = append(problems, "unknown configuration parameter '"+u.Name+"' for "+where)
			continue
		}
		if u.Value == nil {
			delete(next, u.Name)
			continue
		}
		v, err := p.Normalize(*u.Value)
		if err != nil {
			problems = append(problems, "invalid value for '"+u.Name+"': "+err.Error())
			continue
		}
		next[u.Name] = v
	}
	if len(problems) > 0 {
		return nil, apperr.New(apperr.Invalid, "%s", strings.Join(problems, "; "))
	}
	return next, nil
}

// ServiceConfig returns every service-level parameter of a service.
func (s *Service) ServiceConfig(ctx context.Context, cluster, service string) ([]ConfigItem, error) {
	svc, err := s.GetService(ctx, cluster, service)
	if err != nil {
		return nil, err
	}
	t, _ := s.catalog.Type(svc.Type)
	return items(t.Params, svc.Config), nil
}

// UpdateServiceConfig changes a service's configuration; roles whose files
// change become stale until restarted.
func (s *Service) UpdateServiceConfig(ctx context.Context, cluster, service string, updates []ConfigUpdate) ([]ConfigItem, error) {
	var out []ConfigItem
	err := s.write(ctx, func(q *store.Queries) error {
		svc, err := q.GetService(ctx, cluster, service)
		if err != nil {
			return notFound(err, "service '%s' not found in cluster '%s'", service, cluster)
		}
		t, _ := s.catalog.Type(svc.Type)
		next, err := applyUpdates(t.Param, svc.Config, updates, "service type "+svc.Type)
		if err != nil {
			return err
		}
		out = items(t.Params, next)
		return q.SetServiceConfig(ctx, cluster, service, next)
	})
	return out, err
}

// GroupConfig returns every parameter of a role config group's role type.
func (s *Service) GroupConfig(ctx context.Context, cluster, service, group string) ([]ConfigItem, error) {
	g, err := s.GetGroup(ctx, cluster, service, group)
	if err != nil {
		return nil, err
	}
	rt, err := s.roleType(ctx, cluster, service, g.RoleType)
	if err != nil {
		return nil, err
	}
	return items(rt.Params, g.Config), nil
}

// UpdateGroupConfig changes a role config group's configuration.
func (s *Service) UpdateGroupConfig(ctx context.Context, cluster, service, group string, updates []ConfigUpdate) ([]ConfigItem, error) {
	var out []ConfigItem
	err := s.write(ctx, func(q *store.Queries) error {
		g, err := q.GetGroup(ctx, cluster, service, group)
		if err != nil {
			return notFound(err, "role config group '%s' not found in service '%s'", group, service)
		}
		rt, err := s.roleType(ctx, cluster, service, g.RoleType)
		if err != nil {
			return err
		}
		next, err := applyUpdates(rt.Param, g.Config, updates, "role type "+g.RoleType)
		if err != nil {
			return err
		}
		out = items(rt.Params, next)
		return q.SetGroupConfig(ctx, cluster, service, group, next)
	})
	return out, err
}

func (s *Service) roleType(ctx context.Context, cluster, service, roleType string) (*servicetype.RoleType, error) {
	svc, err := s.db.Read().GetService(ctx, cluster, service)
	if err != nil {
		return nil, notFound(err, "service '%s' not found in cluster '%s'", service, cluster)
	}
	t, _ := s.catalog.Type(svc.Type)
	rt, ok := t.RoleType(roleType)
	if !ok {
		return nil, apperr.New(apperr.Internal, "role type %s of service %s is not in the catalog", roleType, service)
	}
	return rt, nil
}
