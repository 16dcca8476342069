package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
)

// countCache keeps the results of list COUNT queries per table and virtual
// cluster (a scope), and keeps them current cheaply: it logs which rows each
// committed write changed, with the rows as they were before, so that a
// stale count is brought up to date by counting how many of the changed
// rows match now and how many matched before, instead of counting again.
//
// Each scope has a generation, a seqlock: a write makes it odd before its
// commit and even after, so a count computed while no write committed can
// be stored under the generation it saw, and never includes a change it
// will be corrected for later.
//
// Only this process's writes are seen. That is all there are with SQLite,
// whose data directory one server holds at a time; a database shared by
// several servers (PostgreSQL) will need the other servers' changes too.
type countCache struct {
	mu      sync.Mutex
	scopes  map[string]*scopeLog
	entries map[string]countEntry
}

type scopeLog struct {
	gen     uint64   // even when no write is committing
	floor   uint64   // changes with gen <= floor are no longer in the log
	changes []change // ordered by gen
}

// change is one row a committed write changed: its key and its column
// values before (nil when it did not exist).
type change struct {
	gen uint64
	key any // the value of the table's key column (tableKeys)
	old []any
}

type countEntry struct {
	gen uint64
	n   int
}

// Limits: log entries kept per scope (up to twice that between trims),
// entries cached, and changed rows a correction handles before a full count
// is cheaper.
const (
	countLogMax   = 2048
	countCacheMax = 4096
	deltaMax      = 200
)

func newCountCache() *countCache {
	return &countCache{scopes: map[string]*scopeLog{}, entries: map[string]countEntry{}}
}

func scope(table, vc string) string { return table + "/" + vc }

func (c *countCache) log(sc string) *scopeLog {
	l := c.scopes[sc]
	if l == nil {
		l = &scopeLog{}
		c.scopes[sc] = l
	}
	return l
}

// begin marks the scopes of a transaction that is about to commit.
func (c *countCache) begin(scopes map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for sc := range scopes {
		c.log(sc).gen++
	}
}

// end closes what begin opened; the changes count only if the transaction
// committed.
func (c *countCache) end(scopes map[string]bool, changes map[string][]change, committed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for sc := range scopes {
		l := c.log(sc)
		l.gen++
		if !committed {
			continue
		}
		for _, ch := range changes[sc] {
			ch.gen = l.gen
			l.changes = append(l.changes, ch)
		}
		// Trim in halves once the log is twice its size: amortized, no
		// copy per commit.
		if len(l.changes) >= 2*countLogMax {
			drop := len(l.changes) - countLogMax
			l.floor = l.changes[drop-1].gen
			l.changes = append(l.changes[:0:0], l.changes[drop:]...)
		}
	}
}

// generation returns a scope's generation.
func (c *countCache) generation(sc string) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log(sc).gen
}

// lookup returns the scope's generation and, if a count is cached for key,
// that count with the rows changed since (their earliest known old values),
// or ok false when the count must be computed from scratch.
func (c *countCache) lookup(sc, key string) (gen uint64, base int, changed map[any][]any, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.log(sc)
	gen = l.gen
	e, found := c.entries[sc+"\x00"+key]
	if !found || gen%2 == 1 || e.gen < l.floor {
		return gen, 0, nil, false
	}
	changed = map[any][]any{}
	for _, ch := range l.changes {
		if ch.gen <= e.gen {
			continue
		}
		if _, seen := changed[ch.key]; !seen {
			changed[ch.key] = ch.old
		}
	}
	if len(changed) > deltaMax {
		return gen, 0, nil, false
	}
	return gen, e.n, changed, true
}

// store keeps a count computed at gen, unless a write committed meanwhile.
func (c *countCache) store(sc, key string, gen uint64, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen%2 == 1 || c.log(sc).gen != gen {
		return
	}
	if len(c.entries) >= countCacheMax {
		clear(c.entries)
	}
	c.entries[sc+"\x00"+key] = countEntry{gen: gen, n: n}
}

func countKey(query string, args []any) string {
	var b strings.Builder
	b.WriteString(query)
	for _, a := range args {
		fmt.Fprintf(&b, "\x00%T:%v", a, a)
	}
	return b.String()
}

// tableColumns are the columns of the tables whose counts are cached, in
// the order old row values are kept, and tableKeys the column that names a
// row within a virtual cluster.
var (
	tableColumns = map[string]string{
		"jobs":        jobColumns,
		"resources":   resourceColumns,
		"credentials": credentialColumns,
		"runs":        runColumns,
	}
	tableKeys = map[string]string{"jobs": "name", "resources": "name", "credentials": "name", "runs": "id"}
)

// changing records, before a write changes a row, the row as it is, so that
// cached counts can be corrected after the commit. Insert passes exists
// false: there is nothing to read.
func (q *Queries) changing(ctx context.Context, table, vc string, key any, exists bool) error {
	sc := scope(table, vc)
	q.written[sc] = true
	for _, ch := range q.changes[sc] {
		if ch.key == key {
			return nil // the earliest version counts
		}
	}
	var old []any
	if exists {
		cols := strings.Split(tableColumns[table], ", ")
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		err := q.q.QueryRowContext(ctx, `SELECT `+tableColumns[table]+` FROM `+table+` WHERE vc_id = $1 AND `+tableKeys[table]+` = $2`, vc, key).Scan(ptrs...)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return fmt.Errorf("read row before change: %w", err)
		default:
			old = vals
		}
	}
	q.changes[sc] = append(q.changes[sc], change{key: key, old: old})
	return nil
}

// count returns the number of rows of table in vc matching where (whose
// arguments start at $2), as the read transaction sees them. seen is the
// scope's generation read before the transaction's snapshot was taken.
// The count comes from the cache, corrected by the rows changed since it
// was computed, or is computed afresh; when a write has committed since
// seen, the snapshot may differ from what the cache knows, so the count is
// computed in the snapshot and not kept.
func (q *Queries) count(ctx context.Context, what, table, vc, where string, args []any, seen uint64) (int, error) {
	sc := scope(table, vc)
	key := countKey(where, args)
	gen, n, changed, ok := q.db.counts.lookup(sc, key)
	var err error
	switch {
	case gen == seen && ok && len(changed) == 0:
		return n, nil
	case gen == seen && ok:
		n, err = q.correct(ctx, table, vc, where, args, n, changed)
	default:
		err = q.q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE vc_id = $1 AND (`+where+`)`, append([]any{vc}, args...)...).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: count: %w", what, err)
	}
	q.db.counts.store(sc, key, seen, n)
	return n, nil
}

// correct brings a count up to date: it adds the changed rows that match
// now and takes away those whose old version matched. The old versions are
// matched by the same WHERE clause over a common table expression that
// takes the table's name.
func (q *Queries) correct(ctx context.Context, table, vc, where string, args []any, n int, changed map[any][]any) (int, error) {
	keys := make([]any, 0, len(changed))
	var olds [][]any
	for key, old := range changed {
		keys = append(keys, key)
		if old != nil {
			olds = append(olds, old)
		}
	}
	base := append([]any{vc}, args...)
	next := len(base) + 1
	var now int
	query := `SELECT COUNT(*) FROM ` + table + ` WHERE vc_id = $1 AND (` + where + `) AND ` + tableKeys[table] + ` IN (` + placeholders(next, len(keys)) + `)`
	if err := q.q.QueryRowContext(ctx, query, append(base, keys...)...).Scan(&now); err != nil {
		return 0, err
	}
	var before int
	if len(olds) > 0 {
		cols := tableColumns[table]
		width := strings.Count(cols, ",") + 1
		rows := make([]string, len(olds))
		vals := append([]any(nil), base...)
		for i, old := range olds {
			rows[i] = "(" + placeholders(next+i*width, width) + ")"
			vals = append(vals, old...)
		}
		query := `WITH ` + table + ` (` + cols + `) AS (VALUES ` + strings.Join(rows, ", ") + `) ` +
			`SELECT COUNT(*) FROM ` + table + ` WHERE vc_id = $1 AND (` + where + `)`
		if err := q.q.QueryRowContext(ctx, query, vals...).Scan(&before); err != nil {
			return 0, err
		}
	}
	return n + now - before, nil
}

func placeholders(first, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = fmt.Sprintf("$%d", first+i)
	}
	return strings.Join(p, ", ")
}
