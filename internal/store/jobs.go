package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// VirtualClusterRow is a row of virtual_clusters.
type VirtualClusterRow struct {
	ID          string
	Name        string
	SparkMaster string // where its runs go, e.g. local[*]
	CreatedAt   time.Time
}

// EnsureVirtualCluster adds a virtual cluster unless one with its id exists.
func (q *Queries) EnsureVirtualCluster(ctx context.Context, vc VirtualClusterRow) error {
	if vc.SparkMaster == "" {
		vc.SparkMaster = "local[*]"
	}
	_, err := q.exec(ctx, "ensure virtual cluster",
		`INSERT INTO virtual_clusters (id, name, spark_master, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING`,
		vc.ID, vc.Name, vc.SparkMaster, ms(vc.CreatedAt))
	return err
}

// GetVirtualCluster returns a virtual cluster.
func (q *Queries) GetVirtualCluster(ctx context.Context, id string) (VirtualClusterRow, error) {
	var vc VirtualClusterRow
	var created int64
	err := q.q.QueryRowContext(ctx, `SELECT id, name, spark_master, created_at FROM virtual_clusters WHERE id = $1`, id).Scan(&vc.ID, &vc.Name, &vc.SparkMaster, &created)
	if err != nil {
		return VirtualClusterRow{}, fmt.Errorf("get virtual cluster: %w", classify(err))
	}
	vc.CreatedAt = fromMS(created)
	return vc, nil
}

// SetVirtualClusterMaster sets the Spark master of a virtual cluster's runs.
func (q *Queries) SetVirtualClusterMaster(ctx context.Context, vc, master string) error {
	return q.execOne(ctx, "set virtual cluster master", `UPDATE virtual_clusters SET spark_master = $2 WHERE id = $1`, vc, master)
}

// CreateVirtualCluster adds a virtual cluster; ErrConflict when its id or
// name is taken.
func (q *Queries) CreateVirtualCluster(ctx context.Context, vc VirtualClusterRow) error {
	_, err := q.exec(ctx, "create virtual cluster",
		`INSERT INTO virtual_clusters (id, name, spark_master, created_at) VALUES ($1, $2, $3, $4)`,
		vc.ID, vc.Name, vc.SparkMaster, ms(vc.CreatedAt))
	return err
}

// UpdateVirtualCluster sets a virtual cluster's name and master.
func (q *Queries) UpdateVirtualCluster(ctx context.Context, vc VirtualClusterRow) error {
	return q.execOne(ctx, "update virtual cluster",
		`UPDATE virtual_clusters SET name = $2, spark_master = $3 WHERE id = $1`, vc.ID, vc.Name, vc.SparkMaster)
}

// ListVirtualClusters returns every virtual cluster by id.
func (q *Queries) ListVirtualClusters(ctx context.Context) ([]VirtualClusterRow, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id, name, spark_master, created_at FROM virtual_clusters ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list virtual clusters: %w", err)
	}
	defer rows.Close()
	var out []VirtualClusterRow
	for rows.Next() {
		var vc VirtualClusterRow
		var created int64
		if err := rows.Scan(&vc.ID, &vc.Name, &vc.SparkMaster, &created); err != nil {
			return nil, fmt.Errorf("list virtual clusters: %w", err)
		}
		vc.CreatedAt = fromMS(created)
		out = append(out, vc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list virtual clusters: %w", err)
	}
	return out, nil
}

// VirtualClusterUsage counts what a virtual cluster holds.
type VirtualClusterUsage struct {
	Jobs, Resources, Credentials, LiveRuns int
}

// CountVirtualClusterUsage counts the jobs, resources, credentials and
// unfinished runs of a virtual cluster.
func (q *Queries) CountVirtualClusterUsage(ctx context.Context, vc string) (VirtualClusterUsage, error) {
	var u VirtualClusterUsage
	err := q.q.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM jobs WHERE vc_id = $1),
		(SELECT count(*) FROM resources WHERE vc_id = $1),
		(SELECT count(*) FROM credentials WHERE vc_id = $1),
		(SELECT count(*) FROM runs WHERE vc_id = $1 AND status IN ('starting', 'running'))`, vc).
		Scan(&u.Jobs, &u.Resources, &u.Credentials, &u.LiveRuns)
	if err != nil {
		return VirtualClusterUsage{}, fmt.Errorf("count virtual cluster usage: %w", err)
	}
	return u, nil
}

// DeleteVirtualCluster removes a virtual cluster with its ended runs and
// returns those runs' ids. The caller checks first that it holds nothing
// else (CountVirtualClusterUsage).
func (q *Queries) DeleteVirtualCluster(ctx context.Context, vc string) ([]int64, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT id FROM runs WHERE vc_id = $1 ORDER BY id`, vc)
	if err != nil {
		return nil, fmt.Errorf("delete virtual cluster: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("delete virtual cluster: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delete virtual cluster: %w", err)
	}
	for _, id := range ids {
		if err := q.changing(ctx, "runs", vc, id, true); err != nil {
			return nil, err
		}
	}
	if _, err := q.exec(ctx, "delete virtual cluster runs", `DELETE FROM runs WHERE vc_id = $1`, vc); err != nil {
		return nil, err
	}
	return ids, q.execOne(ctx, "delete virtual cluster", `DELETE FROM virtual_clusters WHERE id = $1`, vc)
}

// RunIDs returns the ids of every run.
func (q *Queries) RunIDs(ctx context.Context) (map[int64]bool, error) {
	return idSet[int64](ctx, q, "run", `SELECT id FROM runs`)
}

// JobRow is a row of jobs. Spec is the job's JSON document.
type JobRow struct {
	VCID       string
	Name       string
	Type       string
	Spec       string
	CreatedBy  string
	CreatedAt  time.Time
	ModifiedAt time.Time
	LastUsedAt time.Time // zero until a run uses the job
}

const jobColumns = `vc_id, name, type, spec, created_by, created_at, modified_at, last_used_at`

func scanJob(s interface{ Scan(...any) error }) (JobRow, error) {
	var j JobRow
	var created, modified int64
	var lastUsed sql.NullInt64
	if err := s.Scan(&j.VCID, &j.Name, &j.Type, &j.Spec, &j.CreatedBy, &created, &modified, &lastUsed); err != nil {
		return JobRow{}, err
	}
	j.CreatedAt, j.ModifiedAt, j.LastUsedAt = fromMS(created), fromMS(modified), fromNullMS(lastUsed)
	return j, nil
}

// InsertJob adds a job; ErrConflict if the name is taken.
func (q *Queries) InsertJob(ctx context.Context, j JobRow) error {
	if err := q.changing(ctx, "jobs", j.VCID, j.Name, false); err != nil {
		return err
	}
	_, err := q.exec(ctx, "insert job",
		`INSERT INTO jobs (`+jobColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		j.VCID, j.Name, j.Type, j.Spec, j.CreatedBy, ms(j.CreatedAt), ms(j.ModifiedAt), nullMS(j.LastUsedAt))
	return err
}

// UpdateJobSpec replaces a job's document.
func (q *Queries) UpdateJobSpec(ctx context.Context, vc, name, spec string, modified time.Time) error {
	if err := q.changing(ctx, "jobs", vc, name, true); err != nil {
		return err
	}
	return q.execOne(ctx, "update job",
		`UPDATE jobs SET spec = $3, modified_at = $4 WHERE vc_id = $1 AND name = $2`, vc, name, spec, ms(modified))
}

// TouchJob records that a run used the job.
func (q *Queries) TouchJob(ctx context.Context, vc, name string, at time.Time) error {
	if err := q.changing(ctx, "jobs", vc, name, true); err != nil {
		return err
	}
	return q.execOne(ctx, "touch job", `UPDATE jobs SET last_used_at = $3 WHERE vc_id = $1 AND name = $2`, vc, name, ms(at))
}

// GetJob returns a job.
func (q *Queries) GetJob(ctx context.Context, vc, name string) (JobRow, error) {
	j, err := scanJob(q.q.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE vc_id = $1 AND name = $2`, vc, name))
	if err != nil {
		return JobRow{}, fmt.Errorf("get job: %w", classify(err))
	}
	return j, nil
}

// DeleteJob removes a job and its references.
func (q *Queries) DeleteJob(ctx context.Context, vc, name string) error {
	if err := q.changing(ctx, "jobs", vc, name, true); err != nil {
		return err
	}
	return q.execOne(ctx, "delete job", `DELETE FROM jobs WHERE vc_id = $1 AND name = $2`, vc, name)
}

// JobsWithSchedules returns the jobs whose document has a schedule.
func (q *Queries) JobsWithSchedules(ctx context.Context, vc string) ([]JobRow, error) {
	return q.jobs(ctx, "list scheduled jobs",
		`SELECT `+jobColumns+` FROM jobs WHERE vc_id = $1 AND json_type(spec, '$.schedule') = 'object' ORDER BY name`, vc)
}

func (q *Queries) jobs(ctx context.Context, what, query string, args ...any) ([]JobRow, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []JobRow
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Ref is something a job refers to.
type Ref struct {
	Kind string // "resource" or "credential"
	Name string
}

// SetJobRefs replaces the references of a job.
func (q *Queries) SetJobRefs(ctx context.Context, vc, job string, refs []Ref) error {
	if _, err := q.exec(ctx, "clear job references", `DELETE FROM job_refs WHERE vc_id = $1 AND job_name = $2`, vc, job); err != nil {
		return err
	}
	for _, r := range refs {
		if _, err := q.exec(ctx, "insert job reference",
			`INSERT INTO job_refs (vc_id, job_name, kind, ref_name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			vc, job, r.Kind, r.Name); err != nil {
			return err
		}
	}
	return nil
}

// JobsReferring returns up to limit names of jobs that refer to a resource
// or credential, and how many there are in all.
func (q *Queries) JobsReferring(ctx context.Context, vc string, ref Ref, limit int) ([]string, int, error) {
	var total int
	if err := q.q.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM job_refs WHERE vc_id = $1 AND kind = $2 AND ref_name = $3`, vc, ref.Kind, ref.Name).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count referring jobs: %w", err)
	}
	if total == 0 {
		return nil, 0, nil
	}
	rows, err := q.q.QueryContext(ctx,
		`SELECT job_name FROM job_refs WHERE vc_id = $1 AND kind = $2 AND ref_name = $3 ORDER BY job_name LIMIT $4`, vc, ref.Kind, ref.Name, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("list referring jobs: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, 0, fmt.Errorf("list referring jobs: %w", err)
		}
		names = append(names, n)
	}
	return names, total, rows.Err()
}

// ResourceRow is a row of resources. Spec holds the type-specific settings
// as JSON.
type ResourceRow struct {
	VCID       string
	Name       string
	Type       string
	Status     string
	Spec       string
	Signature  string
	CreatedBy  string
	CreatedAt  time.Time
	ModifiedAt time.Time
	LastUsedAt time.Time
	Build      string // JSON state of a python-env's build
}

const resourceColumns = `vc_id, name, type, status, spec, signature, created_by, created_at, modified_at, last_used_at, build`

func scanResource(s interface{ Scan(...any) error }) (ResourceRow, error) {
	var r ResourceRow
	var created, modified int64
	var lastUsed sql.NullInt64
	if err := s.Scan(&r.VCID, &r.Name, &r.Type, &r.Status, &r.Spec, &r.Signature, &r.CreatedBy, &created, &modified, &lastUsed, &r.Build); err != nil {
		return ResourceRow{}, err
	}
	r.CreatedAt, r.ModifiedAt, r.LastUsedAt = fromMS(created), fromMS(modified), fromNullMS(lastUsed)
	return r, nil
}

// InsertResource adds a resource; ErrConflict if the name is taken.
func (q *Queries) InsertResource(ctx context.Context, r ResourceRow) error {
	if err := q.changing(ctx, "resources", r.VCID, r.Name, false); err != nil {
		return err
	}
	_, err := q.exec(ctx, "insert resource",
		`INSERT INTO resources (`+resourceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.VCID, r.Name, r.Type, r.Status, r.Spec, r.Signature, r.CreatedBy, ms(r.CreatedAt), ms(r.ModifiedAt), nullMS(r.LastUsedAt), orEmptyObject(r.Build))
	return err
}

// GetResource returns a resource.
func (q *Queries) GetResource(ctx context.Context, vc, name string) (ResourceRow, error) {
	r, err := scanResource(q.q.QueryRowContext(ctx, `SELECT `+resourceColumns+` FROM resources WHERE vc_id = $1 AND name = $2`, vc, name))
	if err != nil {
		return ResourceRow{}, fmt.Errorf("get resource: %w", classify(err))
	}
	return r, nil
}

// UpdateResourceState sets a resource's status, signature and modification time.
func (q *Queries) UpdateResourceState(ctx context.Context, vc, name, status, signature string, modified time.Time) error {
	if err := q.changing(ctx, "resources", vc, name, true); err != nil {
		return err
	}
	return q.execOne(ctx, "update resource",
		`UPDATE resources SET status = $3, signature = $4, modified_at = $5 WHERE vc_id = $1 AND name = $2`,
		vc, name, status, signature, ms(modified))
}

// SetResourceBuild records the state of a python-env's build and the
// resource status it implies.
func (q *Queries) SetResourceBuild(ctx context.Context, vc, name, status, build string) error {
	if err := q.changing(ctx, "resources", vc, name, true); err != nil {
		return err
	}
	return q.execOne(ctx, "set resource build",
		`UPDATE resources SET status = $3, build = $4 WHERE vc_id = $1 AND name = $2`, vc, name, status, orEmptyObject(build))
}

// ResourcesBuilding returns the python-env resources whose build has not
// ended, in every virtual cluster.
func (q *Queries) ResourcesBuilding(ctx context.Context) ([]ResourceRow, error) {
	rows, err := q.q.QueryContext(ctx, `SELECT `+resourceColumns+` FROM resources WHERE status IN ('pending-build', 'building') AND type = 'python-env' ORDER BY vc_id, name`)
	if err != nil {
		return nil, fmt.Errorf("list building resources: %w", err)
	}
	defer rows.Close()
	var out []ResourceRow
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, fmt.Errorf("list building resources: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func orEmptyObject(s string) string {
	if s == "" {
		return "{}"
	}
	return s
}

// DeleteResource removes a resource with its file rows.
func (q *Queries) DeleteResource(ctx context.Context, vc, name string) error {
	if err := q.changing(ctx, "resources", vc, name, true); err != nil {
		return err
	}
	return q.execOne(ctx, "delete resource", `DELETE FROM resources WHERE vc_id = $1 AND name = $2`, vc, name)
}

// ResourceFileRow is a row of resource_files.
type ResourceFileRow struct {
	VCID         string
	ResourceName string
	Path         string
	BlobID       string
	SizeBytes    int64
	SHA1         string
	CreatedAt    time.Time
	ModifiedAt   time.Time
}

const fileColumns = `vc_id, resource_name, path, blob_id, size_bytes, sha1, created_at, modified_at`

func scanFile(s interface{ Scan(...any) error }) (ResourceFileRow, error) {
	var f ResourceFileRow
	var created, modified int64
	if err := s.Scan(&f.VCID, &f.ResourceName, &f.Path, &f.BlobID, &f.SizeBytes, &f.SHA1, &created, &modified); err != nil {
		return ResourceFileRow{}, err
	}
	f.CreatedAt, f.ModifiedAt = fromMS(created), fromMS(modified)
	return f, nil
}

// PutResourceFile adds or replaces a file row. For a replaced file it
// returns the old row (whose blob is no longer referred to) and true; the
// new row keeps the old creation time.
func (q *Queries) PutResourceFile(ctx context.Context, f ResourceFileRow) (ResourceFileRow, bool, error) {
	old, err := q.GetResourceFile(ctx, f.VCID, f.ResourceName, f.Path)
	switch {
	case err == nil:
		return old, true, q.execOne(ctx, "replace resource file",
			`UPDATE resource_files SET blob_id = $4, size_bytes = $5, sha1 = $6, modified_at = $7
			 WHERE vc_id = $1 AND resource_name = $2 AND path = $3`,
			f.VCID, f.ResourceName, f.Path, f.BlobID, f.SizeBytes, f.SHA1, ms(f.ModifiedAt))
	case isNotFound(err):
		_, err := q.exec(ctx, "insert resource file",
			`INSERT INTO resource_files (`+fileColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			f.VCID, f.ResourceName, f.Path, f.BlobID, f.SizeBytes, f.SHA1, ms(f.CreatedAt), ms(f.ModifiedAt))
		return ResourceFileRow{}, false, err
	default:
		return ResourceFileRow{}, false, err
	}
}

// GetResourceFile returns one file row.
func (q *Queries) GetResourceFile(ctx context.Context, vc, resource, path string) (ResourceFileRow, error) {
	f, err := scanFile(q.q.QueryRowContext(ctx,
		`SELECT `+fileColumns+` FROM resource_files WHERE vc_id = $1 AND resource_name = $2 AND path = $3`, vc, resource, path))
	if err != nil {
		return ResourceFileRow{}, fmt.Errorf("get resource file: %w", classify(err))
	}
	return f, nil
}

// DeleteResourceFile removes a file row.
func (q *Queries) DeleteResourceFile(ctx context.Context, vc, resource, path string) error {
	return q.execOne(ctx, "delete resource file",
		`DELETE FROM resource_files WHERE vc_id = $1 AND resource_name = $2 AND path = $3`, vc, resource, path)
}

// ListResourceFiles returns the files of a resource ordered by path.
func (q *Queries) ListResourceFiles(ctx context.Context, vc, resource string) ([]ResourceFileRow, error) {
	rows, err := q.q.QueryContext(ctx,
		`SELECT `+fileColumns+` FROM resource_files WHERE vc_id = $1 AND resource_name = $2 ORDER BY path`, vc, resource)
	if err != nil {
		return nil, fmt.Errorf("list resource files: %w", err)
	}
	defer rows.Close()
	var out []ResourceFileRow
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, fmt.Errorf("list resource files: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// BlobIDs returns the ids of every blob a file row points at.
func (q *Queries) BlobIDs(ctx context.Context) (map[string]bool, error) {
	return idSet[string](ctx, q, "blob", `SELECT DISTINCT blob_id FROM resource_files`)
}

// idSet returns the set of the single column a query selects.
func idSet[T comparable](ctx context.Context, q *Queries, what, query string) (map[T]bool, error) {
	rows, err := q.q.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("list %s ids: %w", what, err)
	}
	defer rows.Close()
	ids := map[T]bool{}
	for rows.Next() {
		var id T
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list %s ids: %w", what, err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s ids: %w", what, err)
	}
	return ids, nil
}

// CredentialRow is a row of credentials. Secret is sealed by the keyring.
type CredentialRow struct {
	VCID        string
	Name        string
	Type        string
	Description string
	Secret      []byte
	CreatedBy   string
	CreatedAt   time.Time
	ModifiedAt  time.Time
}

const credentialColumns = `vc_id, name, type, description, secret, created_by, created_at, modified_at`

func scanCredential(s interface{ Scan(...any) error }) (CredentialRow, error) {
	var c CredentialRow
	var created, modified int64
	if err := s.Scan(&c.VCID, &c.Name, &c.Type, &c.Description, &c.Secret, &c.CreatedBy, &created, &modified); err != nil {
		return CredentialRow{}, err
	}
	c.CreatedAt, c.ModifiedAt = fromMS(created), fromMS(modified)
	return c, nil
}

// InsertCredential adds a credential; ErrConflict if the name is taken.
func (q *Queries) InsertCredential(ctx context.Context, c CredentialRow) error {
	if err := q.changing(ctx, "credentials", c.VCID, c.Name, false); err != nil {
		return err
	}
	_, err := q.exec(ctx, "insert credential",
		`INSERT INTO credentials (`+credentialColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.VCID, c.Name, c.Type, c.Description, c.Secret, c.CreatedBy, ms(c.CreatedAt), ms(c.ModifiedAt))
	return err
}

// GetCredential returns a credential.
func (q *Queries) GetCredential(ctx context.Context, vc, name string) (CredentialRow, error) {
	c, err := scanCredential(q.q.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE vc_id = $1 AND name = $2`, vc, name))
	if err != nil {
		return CredentialRow{}, fmt.Errorf("get credential: %w", classify(err))
	}
	return c, nil
}

// UpdateCredential replaces a credential's description and sealed secret.
func (q *Queries) UpdateCredential(ctx context.Context, c CredentialRow) error {
	if err := q.changing(ctx, "credentials", c.VCID, c.Name, true); err != nil {
		return err
	}
	return q.execOne(ctx, "update credential",
		`UPDATE credentials SET description = $3, secret = $4, modified_at = $5 WHERE vc_id = $1 AND name = $2`,
		c.VCID, c.Name, c.Description, c.Secret, ms(c.ModifiedAt))
}

// DeleteCredential removes a credential.
func (q *Queries) DeleteCredential(ctx context.Context, vc, name string) error {
	if err := q.changing(ctx, "credentials", vc, name, true); err != nil {
		return err
	}
	return q.execOne(ctx, "delete credential", `DELETE FROM credentials WHERE vc_id = $1 AND name = $2`, vc, name)
}
