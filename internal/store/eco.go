package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// EcoClusterRow is a Hadoop Eco cluster.
type EcoClusterRow struct {
	ID, Name, Owner string
	Status, Reason  string
	Spec            string // JSON
	Secrets         []byte // sealed
	WorkerCnt       int
	Changing        bool // a change (create, scale, delete) is in flight
	TaskStatus      string
	TaskLog         string
	CreatedAt       time.Time
	RunningAt       time.Time // zero: never Running
	TerminatedAt    time.Time // zero: not terminated
	UpdatedAt       time.Time
}

const ecoClusterCols = `id, name, owner, status, reason, spec, secrets, worker_cnt, changing, task_status, task_log, created_at, running_at, terminated_at, updated_at`

func scanEcoCluster(s interface{ Scan(...any) error }) (EcoClusterRow, error) {
	var c EcoClusterRow
	var created, updated int64
	var running, terminated sql.NullInt64
	err := s.Scan(&c.ID, &c.Name, &c.Owner, &c.Status, &c.Reason, &c.Spec, &c.Secrets, &c.WorkerCnt, &c.Changing, &c.TaskStatus, &c.TaskLog,
		&created, &running, &terminated, &updated)
	c.CreatedAt, c.RunningAt, c.TerminatedAt, c.UpdatedAt = fromMS(created), fromNullMS(running), fromNullMS(terminated), fromMS(updated)
	return c, err
}

// InsertEcoCluster stores a new cluster; ErrConflict when a cluster of
// that name is not terminated.
func (q *Queries) InsertEcoCluster(ctx context.Context, c EcoClusterRow) error {
	_, err := q.exec(ctx, "insert eco cluster", `INSERT INTO eco_clusters (`+ecoClusterCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		c.ID, c.Name, c.Owner, c.Status, c.Reason, c.Spec, c.Secrets, c.WorkerCnt, c.Changing, c.TaskStatus, c.TaskLog,
		ms(c.CreatedAt), nullMS(c.RunningAt), nullMS(c.TerminatedAt), ms(c.UpdatedAt))
	return err
}

// UpdateEcoCluster writes a cluster's changing fields.
func (q *Queries) UpdateEcoCluster(ctx context.Context, c EcoClusterRow) error {
	return q.execOne(ctx, "update eco cluster", `UPDATE eco_clusters SET status = $2, reason = $3, worker_cnt = $4, changing = $5,
		task_status = $6, task_log = $7, running_at = $8, terminated_at = $9, updated_at = $10 WHERE id = $1`,
		c.ID, c.Status, c.Reason, c.WorkerCnt, c.Changing, c.TaskStatus, c.TaskLog, nullMS(c.RunningAt), nullMS(c.TerminatedAt), ms(c.UpdatedAt))
}

// GetEcoCluster returns a cluster by id.
func (q *Queries) GetEcoCluster(ctx context.Context, id string) (EcoClusterRow, error) {
	c, err := scanEcoCluster(q.q.QueryRowContext(ctx, `SELECT `+ecoClusterCols+` FROM eco_clusters WHERE id = $1`, id))
	if err != nil {
		return EcoClusterRow{}, fmt.Errorf("get eco cluster: %w", classify(err))
	}
	return c, nil
}

// ListEcoClusters returns the clusters, oldest first; terminated ones only
// with includeTerminated.
func (q *Queries) ListEcoClusters(ctx context.Context, includeTerminated bool) ([]EcoClusterRow, error) {
	where := ""
	if !includeTerminated {
		where = ` WHERE status NOT LIKE 'Terminated%'`
	}
	return queryAll(ctx, q, "list eco clusters", scanEcoCluster, `SELECT `+ecoClusterCols+` FROM eco_clusters`+where+` ORDER BY created_at, id`)
}

// EcoVMRow is a VM of a Hadoop Eco cluster.
type EcoVMRow struct {
	InstanceID, ClusterID, Name string
	Index                       int
	IsMaster                    bool
	Flavor                      string
	VolumeGB                    int
	Address                     string
	Status                      string
	ScriptLog                   string
	CreatedAt                   time.Time
	DeletedAt                   time.Time
}

const ecoVMCols = `instance_id, cluster_id, name, idx, is_master, flavor, volume_gb, address, status, script_log, created_at, deleted_at`

func scanEcoVM(s interface{ Scan(...any) error }) (EcoVMRow, error) {
	var v EcoVMRow
	var created int64
	var deleted sql.NullInt64
	err := s.Scan(&v.InstanceID, &v.ClusterID, &v.Name, &v.Index, &v.IsMaster, &v.Flavor, &v.VolumeGB, &v.Address, &v.Status, &v.ScriptLog, &created, &deleted)
	v.CreatedAt, v.DeletedAt = fromMS(created), fromNullMS(deleted)
	return v, err
}

// InsertEcoVM stores a VM.
func (q *Queries) InsertEcoVM(ctx context.Context, v EcoVMRow) error {
	_, err := q.exec(ctx, "insert eco vm", `INSERT INTO eco_vms (`+ecoVMCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		v.InstanceID, v.ClusterID, v.Name, v.Index, v.IsMaster, v.Flavor, v.VolumeGB, v.Address, v.Status, v.ScriptLog, ms(v.CreatedAt), nullMS(v.DeletedAt))
	return err
}

// UpdateEcoVM writes a VM's changing fields.
func (q *Queries) UpdateEcoVM(ctx context.Context, v EcoVMRow) error {
	return q.execOne(ctx, "update eco vm", `UPDATE eco_vms SET address = $2, status = $3, script_log = $4, deleted_at = $5 WHERE instance_id = $1`,
		v.InstanceID, v.Address, v.Status, v.ScriptLog, nullMS(v.DeletedAt))
}

// ListEcoVMs returns a cluster's VMs (deleted ones too), masters first,
// then by index.
func (q *Queries) ListEcoVMs(ctx context.Context, clusterID string) ([]EcoVMRow, error) {
	return queryAll(ctx, q, "list eco vms", scanEcoVM, `SELECT `+ecoVMCols+` FROM eco_vms WHERE cluster_id = $1 ORDER BY is_master DESC, idx`, clusterID)
}

// ListAllEcoVMs returns the VMs of every cluster, masters first, then by
// index.
func (q *Queries) ListAllEcoVMs(ctx context.Context) ([]EcoVMRow, error) {
	return queryAll(ctx, q, "list eco vms", scanEcoVM, `SELECT `+ecoVMCols+` FROM eco_vms ORDER BY cluster_id, is_master DESC, idx`)
}
