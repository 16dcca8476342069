package jobs

import (
	"context"
	"net/url"

	"github.com/herdhq/herd/internal/listquery"
	"github.com/herdhq/herd/internal/store"
)

// Page describes one page of a list.
type Page struct {
	Limit    int
	Offset   int
	Returned int
	Total    int // matches in all
}

func newPage(q listquery.Query, returned, total int) Page {
	return Page{Limit: q.Limit, Offset: q.Offset, Returned: returned, Total: total}
}

// ListJobs returns the jobs of a virtual cluster that match params (limit,
// offset, orderby, orderasc, filter).
func (s *Service) ListJobs(ctx context.Context, vc string, params url.Values) ([]Job, Page, error) {
	lq, err := listquery.Parse(store.JobListSchema, params)
	if err != nil {
		return nil, Page{}, err
	}
	var rows []store.JobRow
	var total int
	if err := s.db.ReadTx(ctx, func(q *store.Queries) (err error) {
		rows, total, err = q.ListJobs(ctx, vc, lq)
		return err
	}); err != nil {
		return nil, Page{}, err
	}
	out := make([]Job, len(rows))
	for i, r := range rows {
		if out[i], err = s.jobFromRow(r); err != nil {
			return nil, Page{}, err
		}
	}
	return out, newPage(lq, len(out), total), nil
}

// ListResources returns the resources of a virtual cluster that match
// params, with their files when withFiles is set.
func (s *Service) ListResources(ctx context.Context, vc string, params url.Values, withFiles bool) ([]Resource, Page, error) {
	lq, err := listquery.Parse(store.ResourceListSchema, params)
	if err != nil {
		return nil, Page{}, err
	}
	var out []Resource
	var total int
	err = s.db.ReadTx(ctx, func(q *store.Queries) error {
		rows, n, err := q.ListResources(ctx, vc, lq)
		if err != nil {
			return err
		}
		total = n
		out = make([]Resource, len(rows))
		for i, row := range rows {
			if out[i], err = resourceFromRow(row); err != nil {
				return err
			}
			if withFiles {
				if out[i].Files, err = listFiles(ctx, q, vc, row.Name); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, Page{}, err
	}
	return out, newPage(lq, len(out), total), nil
}

func listFiles(ctx context.Context, q *store.Queries, vc, resource string) ([]File, error) {
	rows, err := q.ListResourceFiles(ctx, vc, resource)
	if err != nil {
		return nil, err
	}
	files := make([]File, len(rows)) // not nil: asked for, maybe none
	for i, f := range rows {
		files[i] = fileFromRow(f)
	}
	return files, nil
}

// ListCredentials returns the credentials of a virtual cluster that match
// params, without their values.
func (s *Service) ListCredentials(ctx context.Context, vc string, params url.Values) ([]Credential, Page, error) {
	lq, err := listquery.Parse(store.CredentialListSchema, params)
	if err != nil {
		return nil, Page{}, err
	}
	var rows []store.CredentialRow
	var total int
	if err := s.db.ReadTx(ctx, func(q *store.Queries) (err error) {
		rows, total, err = q.ListCredentials(ctx, vc, lq)
		return err
	}); err != nil {
		return nil, Page{}, err
	}
	out := make([]Credential, len(rows))
	for i, r := range rows {
		out[i] = credentialFromRow(r)
	}
	return out, newPage(lq, len(out), total), nil
}
