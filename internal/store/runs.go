package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/herdhq/herd/internal/listquery"
)

// Run statuses, as the CDE API spells them.
const (
	RunStarting  = "starting"
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunKilled    = "killed"
	RunUnknown   = "unknown"
)

// RunRow is a row of runs.
type RunRow struct {
	ID              int64
	VCID            string
	JobName         string
	Type            string
	Status          string
	User            string
	RequestID       string // empty: none
	Spec            string // JSON document of the run
	Retention       string
	Secrets         []byte // sealed credential values the run started with
	CreatedAt       time.Time
	StartedAt       time.Time // zero until the process starts
	EndedAt         time.Time // zero until the run ends
	KillRequestedAt time.Time
	SparkAppID      string
	SparkAppURL     string
	ExitCode        *int
	Reason          string
	LogTail         string
}

const runColumns = `id, vc_id, job_name, type, status, user_name, request_id, spec, retention, secrets, created_at, started_at, ended_at, kill_requested_at, spark_app_id, spark_app_url, exit_code, reason, log_tail`

func scanRun(s interface{ Scan(...any) error }) (RunRow, error) {
	var r RunRow
	var req sql.NullString
	var created int64
	var started, ended, kill, exit sql.NullInt64
	if err := s.Scan(&r.ID, &r.VCID, &r.JobName, &r.Type, &r.Status, &r.User, &req, &r.Spec, &r.Retention, &r.Secrets,
		&created, &started, &ended, &kill, &r.SparkAppID, &r.SparkAppURL, &exit, &r.Reason, &r.LogTail); err != nil {
		return RunRow{}, err
	}
	r.RequestID = req.String
	r.CreatedAt, r.StartedAt, r.EndedAt, r.KillRequestedAt = fromMS(created), fromNullMS(started), fromNullMS(ended), fromNullMS(kill)
	if exit.Valid {
		code := int(exit.Int64)
		r.ExitCode = &code
	}
	return r, nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// InsertRun adds a run and returns its id; ErrConflict if its request id
// is taken in the virtual cluster.
func (q *Queries) InsertRun(ctx context.Context, r RunRow) (int64, error) {
	var id int64
	err := q.q.QueryRowContext(ctx,
		`INSERT INTO runs (vc_id, job_name, type, status, user_name, request_id, spec, retention, secrets, created_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		r.VCID, r.JobName, r.Type, r.Status, r.User, nullString(r.RequestID), r.Spec, r.Retention, r.Secrets, ms(r.CreatedAt)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert run: %w", classify(err))
	}
	// Recorded after the insert: the key of a new run is known only now.
	if err := q.changing(ctx, "runs", r.VCID, id, false); err != nil {
		return 0, err
	}
	return id, nil
}

// GetRun returns a run of a virtual cluster.
func (q *Queries) GetRun(ctx context.Context, vc string, id int64) (RunRow, error) {
	r, err := scanRun(q.q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE vc_id = $1 AND id = $2`, vc, id))
	if err != nil {
		return RunRow{}, fmt.Errorf("get run: %w", classify(err))
	}
	return r, nil
}

// GetRunByRequest returns the run of a request id.
func (q *Queries) GetRunByRequest(ctx context.Context, vc, requestID string) (RunRow, error) {
	r, err := scanRun(q.q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE vc_id = $1 AND request_id = $2`, vc, requestID))
	if err != nil {
		return RunRow{}, fmt.Errorf("get run by request: %w", classify(err))
	}
	return r, nil
}

func (q *Queries) runs(ctx context.Context, what, query string, args ...any) ([]RunRow, error) {
	rows, err := q.q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []RunRow
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LiveRuns returns the runs that have not ended, in every virtual cluster,
// oldest first.
func (q *Queries) LiveRuns(ctx context.Context) ([]RunRow, error) {
	return q.runs(ctx, "list live runs", `SELECT `+runColumns+` FROM runs WHERE status IN ('starting', 'running') ORDER BY id`)
}

// ExpiredRuns returns runs of delete_after_run jobs, of every virtual
// cluster, that ended before t.
func (q *Queries) ExpiredRuns(ctx context.Context, t time.Time, limit int) ([]RunRow, error) {
	return q.runs(ctx, "list expired runs",
		`SELECT `+runColumns+` FROM runs WHERE retention = 'delete_after_run' AND ended_at < $1 ORDER BY ended_at LIMIT $2`, ms(t), limit)
}

// updateRun changes one run (that also meets cond, when given), recording
// the change for the count cache. Arguments of set and cond start at $3.
func (q *Queries) updateRun(ctx context.Context, what string, vc string, id int64, set, cond string, args ...any) error {
	if err := q.changing(ctx, "runs", vc, id, true); err != nil {
		return err
	}
	return q.execOne(ctx, what, `UPDATE runs SET `+set+` WHERE vc_id = $1 AND id = $2 `+cond, append([]any{vc, id}, args...)...)
}

// MarkRunStarted records that a run's process started.
func (q *Queries) MarkRunStarted(ctx context.Context, vc string, id int64, at time.Time) error {
	return q.updateRun(ctx, "mark run started", vc, id, `status = 'running', started_at = $3`, "", ms(at))
}

// SetRunSecrets records the sealed secrets a run is given.
func (q *Queries) SetRunSecrets(ctx context.Context, vc string, id int64, sealed []byte) error {
	return q.updateRun(ctx, "set run secrets", vc, id, `secrets = $3`, "", sealed)
}

// SetRunApp records the Spark application id and UI address of a run.
func (q *Queries) SetRunApp(ctx context.Context, vc string, id int64, appID, appURL string) error {
	return q.updateRun(ctx, "set run application", vc, id, `spark_app_id = $3, spark_app_url = $4`, "", appID, appURL)
}

// RequestRunKill records that a kill was asked for.
func (q *Queries) RequestRunKill(ctx context.Context, vc string, id int64, at time.Time) error {
	return q.updateRun(ctx, "request run kill", vc, id, `kill_requested_at = $3`, "", ms(at))
}

// EndRun records how a run ended. It does nothing (ErrConflict) to a run
// that has ended already.
func (q *Queries) EndRun(ctx context.Context, vc string, id int64, status string, at time.Time, exitCode *int, reason, tail string) error {
	var code sql.NullInt64
	if exitCode != nil {
		code = sql.NullInt64{Int64: int64(*exitCode), Valid: true}
	}
	err := q.updateRun(ctx, "end run", vc, id,
		`status = $3, ended_at = $4, exit_code = $5, reason = $6, log_tail = $7`, `AND status IN ('starting', 'running')`,
		status, ms(at), code, reason, tail)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("end run %d: %w", id, ErrConflict)
	}
	return err
}

// DeleteRun removes a run record.
func (q *Queries) DeleteRun(ctx context.Context, vc string, id int64) error {
	if err := q.changing(ctx, "runs", vc, id, true); err != nil {
		return err
	}
	return q.execOne(ctx, "delete run", `DELETE FROM runs WHERE vc_id = $1 AND id = $2`, vc, id)
}

// RunListSchema is what GET /job-runs filters and sorts on.
var RunListSchema = &listquery.Schema{
	Fields: []listquery.Field{
		{Name: "id", Type: listquery.Int, Expr: "id", Sortable: true},
		{Name: "job", Type: listquery.String, Expr: "job_name", Sortable: true},
		{Name: "type", Type: listquery.String, Expr: "type", Sortable: true},
		{Name: "status", Type: listquery.String, Expr: "status", Sortable: true},
		{Name: "user", Type: listquery.String, Expr: "user_name", Sortable: true},
		{Name: "started", Type: listquery.Time, Expr: "created_at", Sortable: true},
		{Name: "ended", Type: listquery.Time, Expr: coalesceTime("ended_at"), Sortable: true},
		{Name: "exitCode", Type: listquery.Int, Expr: "exit_code"},
		{Name: "spark.sparkAppID", Type: listquery.String, Expr: "spark_app_id"},
		{Name: "spark.spec.file", Type: listquery.String, Expr: jx("spark.file")},
		{Name: "spark.spec.className", Type: listquery.String, Expr: jx("spark.className")},
		{Name: "spark.spec.name", Type: listquery.String, Expr: jx("spark.name")},
		{Name: "spark.spec.driverCores", Type: listquery.Int, Expr: jx("spark.driverCores")},
		{Name: "spark.spec.executorCores", Type: listquery.Int, Expr: jx("spark.executorCores")},
		{Name: "spark.spec.numExecutors", Type: listquery.Int, Expr: jx("spark.numExecutors")},
	},
	Prefixes: []listquery.Prefix{
		{Prefix: "spark.spec.conf.", Type: listquery.String, ExprFor: jsonKey("spark.conf")},
	},
	DefaultOrder: "id",
}

// ListRuns returns one page of a virtual cluster's runs and the number of
// runs matching in all.
func (q *Queries) ListRuns(ctx context.Context, vc string, lq listquery.Query) ([]RunRow, int, error) {
	var out []RunRow
	total, err := q.page(ctx, "list runs", "runs", runColumns, vc, lq, func(r *sql.Rows) error {
		run, err := scanRun(r)
		out = append(out, run)
		return err
	})
	return out, total, err
}

// ScheduleState is a row of schedules.
type ScheduleState struct {
	VCID     string
	Job      string
	LastFire time.Time
	NextFire time.Time // zero: nothing due
}

// GetScheduleState returns the scheduler's state of a job.
func (q *Queries) GetScheduleState(ctx context.Context, vc, job string) (ScheduleState, error) {
	st := ScheduleState{VCID: vc, Job: job}
	var last int64
	var next sql.NullInt64
	err := q.q.QueryRowContext(ctx, `SELECT last_fire_at, next_fire_at FROM schedules WHERE vc_id = $1 AND job_name = $2`, vc, job).Scan(&last, &next)
	if err != nil {
		return ScheduleState{}, fmt.Errorf("get schedule state: %w", classify(err))
	}
	st.LastFire, st.NextFire = fromMS(last), fromNullMS(next)
	return st, nil
}

// PutScheduleState records the scheduler's state of a job.
func (q *Queries) PutScheduleState(ctx context.Context, st ScheduleState) error {
	_, err := q.exec(ctx, "put schedule state",
		`INSERT INTO schedules (vc_id, job_name, last_fire_at, next_fire_at) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (vc_id, job_name) DO UPDATE SET last_fire_at = excluded.last_fire_at, next_fire_at = excluded.next_fire_at`,
		st.VCID, st.Job, ms(st.LastFire), nullMS(st.NextFire))
	return err
}

// DeleteScheduleState forgets the scheduler's state of a job.
func (q *Queries) DeleteScheduleState(ctx context.Context, vc, job string) error {
	_, err := q.exec(ctx, "delete schedule state", `DELETE FROM schedules WHERE vc_id = $1 AND job_name = $2`, vc, job)
	return err
}

// DueSchedules returns the schedules due at now, earliest first.
func (q *Queries) DueSchedules(ctx context.Context, now time.Time, limit int) ([]ScheduleState, error) {
	rows, err := q.q.QueryContext(ctx,
		`SELECT vc_id, job_name, last_fire_at, next_fire_at FROM schedules
		 WHERE next_fire_at IS NOT NULL AND next_fire_at <= $1 ORDER BY next_fire_at LIMIT $2`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("list due schedules: %w", err)
	}
	defer rows.Close()
	var out []ScheduleState
	for rows.Next() {
		var st ScheduleState
		var last, next int64
		if err := rows.Scan(&st.VCID, &st.Job, &last, &next); err != nil {
			return nil, fmt.Errorf("list due schedules: %w", err)
		}
		st.LastFire, st.NextFire = fromMS(last), fromMS(next)
		out = append(out, st)
	}
	return out, rows.Err()
}
