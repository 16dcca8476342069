package listquery

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"testing"

	"modernc.org/sqlite"
)

// registerRegexp registers regexp(pattern, value) once per test binary, the
// function SQLite calls for "value REGEXP pattern". Registration is global to
// the driver and fails if repeated.
var registerRegexp = sync.OnceFunc(func() {
	sqlite.MustRegisterDeterministicScalarFunction("regexp", 2,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			pattern, ok := args[0].(string)
			if !ok {
				return nil, fmt.Errorf("regexp: pattern is %T, want text", args[0])
			}
			var value string
			switch v := args[1].(type) {
			case nil:
				return nil, nil
			case string:
				value = v
			case []byte:
				value = string(v)
			default:
				value = fmt.Sprint(v)
			}
			re, err := regexp.Compile(pattern)
			if err != nil {
				return nil, err
			}
			return re.MatchString(value), nil
		})
})

// openJobs returns an in-memory database with a jobs table matching
// jobsSchema.
func openJobs(t *testing.T) *sql.DB {
	t.Helper()
	registerRegexp()
	db, err := sql.Open("sqlite", "file:"+t.Name()+"?mode=memory")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1) // one connection keeps the in-memory database alive
	t.Cleanup(func() { db.Close() })
	stmts := []string{
		`CREATE TABLE jobs (
			id      INTEGER PRIMARY KEY,
			name    TEXT NOT NULL,
			type    TEXT NOT NULL,
			created INTEGER NOT NULL,
			paused  INTEGER NOT NULL,
			spec    TEXT NOT NULL
		)`,
		`INSERT INTO jobs VALUES
		(1, 'etl-daily',  'spark',   1700438400000, 0,
			'{"spark":{"file":"etl.py","executorCores":1,"logging":true,"conf":{"spark.executor.instances":"2"}}}'),
		(2, 'ETL-weekly', 'spark',   1700697600000, 1,
			'{"spark":{"file":"weekly.py","executorCores":10,"logging":false,"conf":{"spark.executor.instances":"4","spark.driver.memory":"1g"}}}'),
		(3, 'report',     'airflow', 1701227045678, 0,
			'{"airflow":{"dagFile":"dag.py"}}'),
		(4, 'cleanup',    'spark',   1701388800000, 0,
			'{"spark":{"file":"clean.py","executorCores":2,"logging":true,"conf":{}}}'),
		(5, 'etl_x',      'spark',   1701388800000, 1,
			'{"spark":{"file":"x.py","executorCores":3}}')`,
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return db
}

// listIDs runs a list query the way a store would and returns the ids.
func listIDs(ctx context.Context, db *sql.DB, q Query) ([]int64, error) {
	where, args := q.Where(SQLite, 1)
	n := len(args)
	query := fmt.Sprintf("SELECT id FROM jobs WHERE %s ORDER BY %s LIMIT $%d OFFSET $%d",
		where, q.OrderClause("id"), n+1, n+2)
	rows, err := db.QueryContext(ctx, query, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", query, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func TestSQLite(t *testing.T) {
	db := openJobs(t)
	tests := []struct {
		raw  string
		want []int64
	}{
		// Ordering (default name, case-sensitive BINARY collation), paging.
		{"", []int64{2, 4, 1, 5, 3}},
		{"orderby=id", []int64{1, 2, 3, 4, 5}},
		{"orderby=ID&orderasc=false", []int64{5, 4, 3, 2, 1}},
		{"orderby=id&limit=2", []int64{1, 2}},
		{"orderby=id&limit=2&offset=2", []int64{3, 4}},
		{"orderby=id&offset=5", nil},
		{"orderby=created", []int64{1, 2, 3, 4, 5}}, // 4 and 5 tie; id breaks it
		{"orderby=created&orderasc=false", []int64{5, 4, 3, 2, 1}},
		{"orderby=spark.executorCores", []int64{3, 1, 4, 5, 2}}, // NULL first, then numeric order
		{"orderby=spark.executorCores&orderasc=false", []int64{2, 5, 4, 1, 3}},
		// String operators.
		{"orderby=id&filter=type[eq]spark", []int64{1, 2, 4, 5}},
		{"orderby=id&filter=type[req]airflow", []int64{3}},
		{"orderby=id&filter=type[noteq]spark", []int64{3}},
		{"orderby=id&filter=name[lt]cz", []int64{2, 4}},
		{"orderby=id&filter=name[lte]cleanup", []int64{2, 4}},
		{"orderby=id&filter=name[gt]etl-daily", []int64{3, 5}},
		{"orderby=id&filter=name[gte]etl-daily", []int64{1, 3, 5}},
		{"orderby=id&filter=name[in]report,cleanup,nope", []int64{3, 4}},
		{"orderby=id&filter=name[notin]report,cleanup", []int64{1, 2, 5}},
		{"orderby=id&filter=name[like]%25etl%25", []int64{1, 2, 5}}, // LIKE ignores ASCII case
		{"orderby=id&filter=name[like]etl_%25", []int64{1, 2, 5}},
		{"orderby=id&filter=name[like]etl-_____", []int64{1}},
		{"orderby=id&filter=name[rlike]^etl", []int64{1, 5}}, // regexp is case-sensitive
		{"orderby=id&filter=name[rlike](?i)^etl-", []int64{1, 2}},
		{"orderby=id&filter=name[rlike]y$", []int64{1, 2}},
		// JSON paths.
		{"orderby=id&filter=spark.file[eq]etl.py", []int64{1}},
		{"orderby=id&filter=spark.file[noteq]etl.py", []int64{2, 3, 4, 5}}, // 3 has no spark.file
		{"orderby=id&filter=spark.file[like]%25ly.py", []int64{2}},
		{"orderby=id&filter=spark.executorCores[lt]2", []int64{1}}, // 10 is not < 2
		{"orderby=id&filter=spark.executorCores[lte]2", []int64{1, 4}},
		{"orderby=id&filter=spark.executorCores[gt]2", []int64{2, 5}},
		{"orderby=id&filter=spark.executorCores[gte]3", []int64{2, 5}},
		{"orderby=id&filter=spark.executorCores[eq]10", []int64{2}},
		{"orderby=id&filter=spark.executorCores[noteq]10", []int64{1, 3, 4, 5}},
		{"orderby=id&filter=spark.executorCores[in]1,10", []int64{1, 2}},
		{"orderby=id&filter=spark.executorCores[notin]1,10", []int64{3, 4, 5}},
		{"orderby=id&filter=spark.logging[eq]true", []int64{1, 4}},
		{"orderby=id&filter=spark.logging[eq]false", []int64{2}},
		{"orderby=id&filter=spark.logging[noteq]true", []int64{2, 3, 5}},
		{"orderby=id&filter=spark.conf.spark.executor.instances[eq]4", []int64{2}},
		{"orderby=id&filter=spark.conf.spark.executor.instances[in]2,4", []int64{1, 2}},
		{"orderby=id&filter=spark.conf.spark.driver.memory[like]1G", []int64{2}},
		{"orderby=id&filter=spark.conf.spark.executor.instances[noteq]2", []int64{2, 3, 4, 5}},
		// Plain integer and boolean columns.
		{"orderby=id&filter=id[in]2,4,6", []int64{2, 4}},
		{"orderby=id&filter=id[notin]2,4,6", []int64{1, 3, 5}},
		{"orderby=id&filter=id[gt]3", []int64{4, 5}},
		{"orderby=id&filter=paused[eq]true", []int64{2, 5}},
		{"orderby=id&filter=paused[noteq]true", []int64{1, 3, 4}},
		// Time.
		{"orderby=id&filter=created[eq]2023-11-23", []int64{2}},
		{"orderby=id&filter=created[noteq]2023-11-23", []int64{1, 3, 4, 5}},
		{"orderby=id&filter=created[gte]2023-11-23", []int64{2, 3, 4, 5}},
		{"orderby=id&filter=created[gt]2023-11-23", []int64{3, 4, 5}},
		{"orderby=id&filter=created[lt]2023-11-29T03:04:05.678Z", []int64{1, 2}},
		{"orderby=id&filter=created[lte]2023-11-29T03:04:05.678Z", []int64{1, 2, 3}},
		{"orderby=id&filter=created[gte]2023-11-29T03:04:05", []int64{3, 4, 5}},
		{"orderby=id&filter=created[lt]2023-11-29T05%2B02:00", []int64{1, 2}},
		{"orderby=id&filter=created[in]2023-11-20,2023-12-01", []int64{1, 4, 5}},
		{"orderby=id&filter=created[notin]2023-11-20,2023-12-01", []int64{2, 3}},
		// ANDed filters.
		{"orderby=id&filter=type[eq]spark&filter=paused[eq]false", []int64{1, 4}},
		{"orderby=id&filter=type[eq]spark AND spark.executorCores[gte]2 AND name[like]%25e%25", []int64{2, 4, 5}},
		{"orderby=id&filter=type[eq]spark AND id[gt]1&filter=name[notin]cleanup&limit=1&offset=1", []int64{5}},
	}
	ctx := t.Context()
	for _, tt := range tests {
		q, err := Parse(jobsSchema(), mustValues(t, tt.raw))
		if err != nil {
			t.Errorf("%s: %v", tt.raw, err)
			continue
		}
		got, err := listIDs(ctx, db, q)
		if err != nil {
			t.Errorf("%s: %v", tt.raw, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: ids %v, want %v", tt.raw, got, tt.want)
		}
	}
}

// TestSQLiteFirstArg checks that Where's placeholders line up with
// arguments the caller binds before them.
func TestSQLiteFirstArg(t *testing.T) {
	db := openJobs(t)
	q, err := Parse(jobsSchema(), mustValues(t, "filter=type[in]spark,airflow&filter=id[lt]4"))
	if err != nil {
		t.Fatal(err)
	}
	where, args := q.Where(SQLite, 2)
	query := "SELECT count(*) FROM jobs WHERE paused = $1 AND " + where
	var n int
	if err := db.QueryRowContext(t.Context(), query, append([]any{0}, args...)...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n != 2 { // ids 1 and 3
		t.Errorf("%s: count %d, want 2", query, n)
	}
}
