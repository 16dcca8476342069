package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"regexp"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func init() {
	// regexp(pattern, value) serves the REGEXP operator of rlike filters.
	// Registration is global to the driver, hence here, once.
	sqlite.MustRegisterDeterministicScalarFunction("regexp", 2, sqlRegexp)
}

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// readers is the size of the pool of read-only connections.
const readers = 4

// Errors every query may return, wrapped with the statement's context.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// DB is Herd's database handle.
type DB struct {
	w      *sql.DB // the single writer
	r      *sql.DB // readers
	counts *countCache
}

// Open opens (creating if needed) the SQLite database at path and applies
// pending migrations.
func Open(ctx context.Context, path string) (*DB, error) {
	pragmas := []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(FULL)"}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	wq := url.Values{"_txlock": {"immediate"}}
	for k, v := range q {
		wq[k] = v
	}
	w, err := sql.Open("sqlite", "file:"+path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	db := &DB{w: w, counts: newCountCache()}
	if err := db.Optimize(ctx); err != nil {
		w.Close()
		return nil, err
	}
	q.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database readers: %w", err)
	}
	r.SetMaxOpenConns(readers)
	db.r = r
	return db, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	dir, err := fs.Sub(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Optimize gathers the query planner's statistics (ANALYZE, with STAT4
// samples) for every table that has none or has grown about tenfold since
// they were gathered, so that list queries choose well between walking the
// ordering index and using a filter's index. It costs microseconds when
// there is nothing to do and a full scan of a table when there is (about
// 0.3 s for 100,000 jobs); run it at start and every few minutes.
//
// SQLite estimates a STRICT table's row width from its column types, not
// from the JSON documents jobs and resources hold, and then prefers reading
// the wide rows to a narrow covering index for counts. So after fresh
// statistics, the real average width is recorded as a "sz=" hint (a
// documented sqlite_stat1 setting) and the readers reconnect to load it.
func (db *DB) Optimize(ctx context.Context) error {
	if _, err := db.w.ExecContext(ctx, `PRAGMA optimize=0x10002`); err != nil {
		return fmt.Errorf("optimize database: %w", err)
	}
	hinted := false
	for _, table := range []string{"jobs", "resources"} {
		ok, err := db.hintRowWidth(ctx, table)
		if err != nil {
			return fmt.Errorf("optimize database: %w", err)
		}
		hinted = hinted || ok
	}
	if hinted && db.r != nil {
		db.r.SetMaxIdleConns(0) // close idle readers: new ones read the new statistics
		db.r.SetMaxIdleConns(readers)
	}
	return nil
}

// hintRowWidth records the average row width of a table whose statistics
// lack it, and reports whether it did.
func (db *DB) hintRowWidth(ctx context.Context, table string) (bool, error) {
	var analyzed, hinted int
	err := db.w.QueryRowContext(ctx,
		`SELECT COUNT(*), COUNT(*) FILTER (WHERE idx IS NULL) FROM sqlite_stat1 WHERE tbl = $1`, table).Scan(&analyzed, &hinted)
	if err != nil || analyzed == 0 || hinted > 0 {
		return false, err
	}
	// Table and column names are constants of this package, never input.
	var rows, width int64
	if err := db.w.QueryRowContext(ctx,
		`SELECT COUNT(*), CAST(coalesce(avg(length(spec)), 0) AS INTEGER) + 64 FROM `+table).Scan(&rows, &width); err != nil {
		return false, err
	}
	_, err = db.w.ExecContext(ctx, `INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ($1, NULL, $2)`,
		table, fmt.Sprintf("%d sz=%d", rows, width))
	if err != nil {
		return false, err
	}
	_, err = db.w.ExecContext(ctx, `ANALYZE sqlite_schema`) // reload the statistics
	return true, err
}

// Close closes all connections.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.r.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// Read returns queries that run on the reader pool, outside a transaction.
func (db *DB) Read() *Queries { return &Queries{q: db.r, db: db} }

// InTx runs fn in one write transaction, committed if fn returns nil and
// rolled back otherwise.
func (db *DB) InTx(ctx context.Context, fn func(*Queries) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	q := &Queries{q: tx, db: db, written: map[string]bool{}, changes: map[string][]change{}}
	if err := fn(q); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	db.counts.begin(q.written)
	err = tx.Commit()
	db.counts.end(q.written, q.changes, err == nil)
	if err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Queries holds every statement; it runs on a pool or in a transaction.
type Queries struct {
	q  querier
	db *DB
	// In a write transaction: the (table, virtual cluster) scopes written
	// and the rows changed in each, for the count cache.
	written map[string]bool
	changes map[string][]change
}

// regexps caches the compiled patterns of the regexp SQL function; it is
// cleared when full, since the patterns come from clients.
var regexps = struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}{m: map[string]*regexp.Regexp{}}

const regexpCacheMax = 256

func compiledRegexp(pattern string) (*regexp.Regexp, error) {
	regexps.Lock()
	defer regexps.Unlock()
	if re, ok := regexps.m[pattern]; ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("regexp %q: %w", pattern, err)
	}
	if len(regexps.m) >= regexpCacheMax {
		clear(regexps.m)
	}
	regexps.m[pattern] = re
	return re, nil
}

// sqlRegexp is regexp(pattern, value), which SQLite calls for value REGEXP
// pattern: 1 if Go's regexp matches, 0 if not, NULL for a NULL value.
func sqlRegexp(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	pattern, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	var value string
	switch v := args[1].(type) {
	case string:
		value = v
	case []byte:
		value = string(v)
	case nil:
		return nil, nil
	default:
		value = fmt.Sprint(v)
	}
	re, err := compiledRegexp(pattern)
	if err != nil {
		return nil, err
	}
	if re.MatchString(value) {
		return int64(1), nil
	}
	return int64(0), nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// classify turns driver errors into the package's sentinel errors.
func classify(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			return fmt.Errorf("%w: %w", ErrConflict, err)
		}
	}
	return err
}

func (q *Queries) exec(ctx context.Context, what, query string, args ...any) (int64, error) {
	res, err := q.q.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return n, nil
}

// execOne is exec for statements that must touch exactly one row.
func (q *Queries) execOne(ctx context.Context, what, query string, args ...any) error {
	n, err := q.exec(ctx, what, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}

// Times are stored as Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromMS(v.Int64)
}

func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ms(t), Valid: true}
}
