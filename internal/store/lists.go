package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/herdhq/herd/internal/listquery"
)

// jx is the SQL of a JSON path in a spec document.
func jx(path string) string { return "json_extract(spec, '$." + path + "')" }

// jxb is jx for a boolean: absent counts as false.
func jxb(path string) string { return "coalesce(" + jx(path) + ", 0)" }

// zeroTimeMS is Go's zero time in Unix milliseconds: a time that is not set
// yet compares as the wire shows it, 0001-01-01T00:00:00Z.
const zeroTimeMS = "-62135596800000"

func coalesceTime(col string) string { return "coalesce(" + col + ", " + zeroTimeMS + ")" }

func jsonKey(prefix string) func(string) string {
	return func(key string) string { return `json_extract(spec, '$.` + prefix + `."` + key + `"')` }
}

// JobListSchema is what GET /jobs filters and sorts on.
var JobListSchema = &listquery.Schema{
	Fields: []listquery.Field{
		{Name: "name", Type: listquery.String, Expr: "name", Sortable: true},
		{Name: "type", Type: listquery.String, Expr: "type", Sortable: true},
		{Name: "created", Type: listquery.Time, Expr: "created_at", Sortable: true},
		{Name: "modified", Type: listquery.Time, Expr: "modified_at", Sortable: true},
		{Name: "lastUsed", Type: listquery.Time, Expr: coalesceTime("last_used_at"), Sortable: true},
		{Name: "retentionPolicy", Type: listquery.String, Expr: jx("retentionPolicy"), Sortable: true},
		{Name: "hidden", Type: listquery.Bool, Expr: jxb("hidden")},
		{Name: "runtimeImageResourceName", Type: listquery.String, Expr: jx("runtimeImageResourceName")},
		{Name: "spark.file", Type: listquery.String, Expr: jx("spark.file")},
		{Name: "spark.className", Type: listquery.String, Expr: jx("spark.className")},
		{Name: "spark.driverCores", Type: listquery.Int, Expr: jx("spark.driverCores")},
		{Name: "spark.driverMemory", Type: listquery.String, Expr: jx("spark.driverMemory")},
		{Name: "spark.executorCores", Type: listquery.Int, Expr: jx("spark.executorCores")},
		{Name: "spark.executorMemory", Type: listquery.String, Expr: jx("spark.executorMemory")},
		{Name: "spark.numExecutors", Type: listquery.Int, Expr: jx("spark.numExecutors")},
		{Name: "spark.logLevel", Type: listquery.String, Expr: jx("spark.logLevel")},
		{Name: "spark.name", Type: listquery.String, Expr: jx("spark.name")},
		{Name: "spark.proxyUser", Type: listquery.String, Expr: jx("spark.proxyUser")},
		{Name: "spark.pythonEnvResourceName", Type: listquery.String, Expr: jx("spark.pythonEnvResourceName")},
		{Name: "airflow.dagFile", Type: listquery.String, Expr: jx("airflow.dagFile")},
		{Name: "airflow.dagID", Type: listquery.String, Expr: jx("airflow.dagID")},
		{Name: "schedule.enabled", Type: listquery.Bool, Expr: jxb("schedule.enabled")},
		{Name: "schedule.paused", Type: listquery.Bool, Expr: jxb("schedule.paused")},
		{Name: "schedule.catchup", Type: listquery.Bool, Expr: jxb("schedule.catchup")},
		{Name: "schedule.cronExpression", Type: listquery.String, Expr: jx("schedule.cronExpression")},
		{Name: "schedule.user", Type: listquery.String, Expr: jx("schedule.user")},
	},
	Prefixes: []listquery.Prefix{
		{Prefix: "spark.conf.", Type: listquery.String, ExprFor: jsonKey("spark.conf")},
		{Prefix: "defaultVariables.", Type: listquery.String, ExprFor: jsonKey("defaultVariables")},
	},
	DefaultOrder: "name",
}

// ResourceListSchema is what GET /resources filters and sorts on.
var ResourceListSchema = &listquery.Schema{
	Fields: []listquery.Field{
		{Name: "name", Type: listquery.String, Expr: "name", Sortable: true},
		{Name: "type", Type: listquery.String, Expr: "type", Sortable: true},
		{Name: "status", Type: listquery.String, Expr: "status", Sortable: true},
		{Name: "signature", Type: listquery.String, Expr: "signature"},
		{Name: "created", Type: listquery.Time, Expr: "created_at", Sortable: true},
		{Name: "modified", Type: listquery.Time, Expr: "modified_at", Sortable: true},
		{Name: "lastUsed", Type: listquery.Time, Expr: coalesceTime("last_used_at"), Sortable: true},
		{Name: "retentionPolicy", Type: listquery.String, Expr: jx("retentionPolicy"), Sortable: true},
		{Name: "hidden", Type: listquery.Bool, Expr: jxb("hidden")},
		{Name: "pythonEnv.pythonVersion", Type: listquery.String, Expr: jx("pythonEnv.pythonVersion")},
		{Name: "customRuntimeImage.image", Type: listquery.String, Expr: jx("customRuntimeImage.image")},
		{Name: "customRuntimeImage.engine", Type: listquery.String, Expr: jx("customRuntimeImage.engine")},
	},
	DefaultOrder: "name",
}

// CredentialListSchema is what GET /credentials filters and sorts on.
var CredentialListSchema = &listquery.Schema{
	Fields: []listquery.Field{
		{Name: "name", Type: listquery.String, Expr: "name", Sortable: true},
		{Name: "type", Type: listquery.String, Expr: "type", Sortable: true},
		{Name: "description", Type: listquery.String, Expr: "description", Sortable: true},
		{Name: "created", Type: listquery.Time, Expr: "created_at", Sortable: true},
		{Name: "modified", Type: listquery.Time, Expr: "modified_at", Sortable: true},
	},
	DefaultOrder: "name",
}

// ReadTx runs fn in one read transaction, so that its queries see one
// snapshot of the database.
func (db *DB) ReadTx(ctx context.Context, fn func(*Queries) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("begin read transaction: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read only: nothing to keep or lose
	return fn(&Queries{q: tx, db: db})
}

// page runs a list query on a table of one virtual cluster: one page of
// rows, scanned by scan, and the number of matches in all. The total comes
// from the page itself when the page is not full, else from count. Call it
// in a read transaction (DB.ReadTx), so that both see one snapshot.
func (q *Queries) page(ctx context.Context, what, table, columns, vc string, lq listquery.Query, scan func(*sql.Rows) error) (int, error) {
	key := tableKeys[table]
	// Read before the page query takes the transaction's snapshot.
	seen := q.db.counts.generation(scope(table, vc))
	where, args := lq.Where(listquery.SQLite, 2)
	args = append([]any{vc}, args...)
	cond := ` FROM ` + table + ` WHERE vc_id = $1 AND (` + where + `)`
	n := len(args)
	query := `SELECT ` + columns + cond + ` ORDER BY ` + lq.OrderClause(key) +
		fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n+1, n+2)
	rows, err := q.q.QueryContext(ctx, query, append(args, lq.Limit, lq.Offset)...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	returned := 0
	for rows.Next() {
		if err := scan(rows); err != nil {
			return 0, fmt.Errorf("%s: %w", what, err)
		}
		returned++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	if returned < lq.Limit && (returned > 0 || lq.Offset == 0) {
		return lq.Offset + returned, nil
	}
	return q.count(ctx, what, table, vc, where, args[1:], seen)
}

// ListJobs returns one page of a virtual cluster's jobs and the number of
// jobs matching in all.
func (q *Queries) ListJobs(ctx context.Context, vc string, lq listquery.Query) ([]JobRow, int, error) {
	var out []JobRow
	total, err := q.page(ctx, "list jobs", "jobs", jobColumns, vc, lq, func(r *sql.Rows) error {
		j, err := scanJob(r)
		out = append(out, j)
		return err
	})
	return out, total, err
}

// ListResources returns one page of a virtual cluster's resources and the
// number matching in all.
func (q *Queries) ListResources(ctx context.Context, vc string, lq listquery.Query) ([]ResourceRow, int, error) {
	var out []ResourceRow
	total, err := q.page(ctx, "list resources", "resources", resourceColumns, vc, lq, func(r *sql.Rows) error {
		res, err := scanResource(r)
		out = append(out, res)
		return err
	})
	return out, total, err
}

// ListCredentials returns one page of a virtual cluster's credentials and
// the number matching in all.
func (q *Queries) ListCredentials(ctx context.Context, vc string, lq listquery.Query) ([]CredentialRow, int, error) {
	var out []CredentialRow
	total, err := q.page(ctx, "list credentials", "credentials", credentialColumns, vc, lq, func(r *sql.Rows) error {
		c, err := scanCredential(r)
		out = append(out, c)
		return err
	})
	return out, total, err
}
