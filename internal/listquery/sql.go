package listquery

import (
	"strconv"
	"strings"
)

// Dialect is the SQL dialect Where renders.
type Dialect int

// The supported dialects.
const (
	// SQLite renders like as LIKE (case-insensitive for ASCII, no escape
	// character) and rlike as REGEXP, which calls the application-defined
	// function regexp(pattern, value) the store must register.
	SQLite Dialect = iota
	// PostgreSQL renders like as ILIKE ... ESCAPE '' (matching SQLite's LIKE)
	// and rlike as ~ (a POSIX regular expression, whose syntax differs from
	// Go's in places); Bool arguments are bound as Go bools.
	PostgreSQL
)

// Where returns a SQL boolean expression requiring every filter of q, "1=1"
// when there are none, and the arguments it binds. Placeholders are $N,
// numbered from firstArg (values below 1 count as 1), so the expression can
// follow arguments the caller binds itself.
//
// noteq and notin also match rows where the value is NULL (for example a
// JSON key that is absent); every other operator never matches NULL.
func (q Query) Where(d Dialect, firstArg int) (string, []any) {
	if len(q.Filters) == 0 {
		return "1=1", nil
	}
	w := writer{d: d, next: max(firstArg, 1)}
	for i, f := range q.Filters {
		if i > 0 {
			w.sql.WriteString(" AND ")
		}
		w.filter(f)
	}
	return w.sql.String(), w.args
}

// writer accumulates a WHERE expression and its arguments.
type writer struct {
	d    Dialect
	sql  strings.Builder
	args []any
	next int // number of the next placeholder
}

// bind adds an argument and writes its placeholder.
func (w *writer) bind(f Field, a any) {
	if w.d == PostgreSQL && f.Type == Bool {
		n, _ := a.(int64)
		a = n != 0
	}
	w.args = append(w.args, a)
	w.sql.WriteString("$")
	w.sql.WriteString(strconv.Itoa(w.next))
	w.next++
}

// list writes "($a, $b, ...)" binding every argument of f.
func (w *writer) list(f Filter) {
	w.sql.WriteString("(")
	for i, a := range f.Args {
		if i > 0 {
			w.sql.WriteString(", ")
		}
		w.bind(f.Field, a)
	}
	w.sql.WriteString(")")
}

// binary writes "expr op $n".
func (w *writer) binary(f Filter, op string) {
	w.sql.WriteString(f.Field.Expr)
	w.sql.WriteString(" " + op + " ")
	w.bind(f.Field, f.Args[0])
}

func (w *writer) filter(f Filter) {
	expr := f.Field.Expr
	switch f.Op {
	case NotEq:
		w.sql.WriteString("(" + expr + " IS NULL OR ")
		w.binary(f, "<>")
		w.sql.WriteString(")")
	case In:
		w.sql.WriteString(expr + " IN ")
		w.list(f)
	case NotIn:
		w.sql.WriteString("(" + expr + " IS NULL OR " + expr + " NOT IN ")
		w.list(f)
		w.sql.WriteString(")")
	case Like:
		if w.d == PostgreSQL {
			w.binary(f, "ILIKE")
			w.sql.WriteString(" ESCAPE ''")
		} else {
			w.binary(f, "LIKE")
		}
	case RLike:
		if w.d == PostgreSQL {
			w.binary(f, "~")
		} else {
			w.binary(f, "REGEXP")
		}
	default:
		w.binary(f, comparison(f.Op))
	}
}

// comparison returns the SQL operator of Eq, Lt, Lte, Gt and Gte.
func comparison(op Op) string {
	switch op {
	case Lt:
		return "<"
	case Lte:
		return "<="
	case Gt:
		return ">"
	case Gte:
		return ">="
	default:
		return "="
	}
}

// OrderClause returns the ORDER BY list (without the keywords) for q, e.g.
// "name ASC NULLS FIRST, id ASC". tieBreaker, typically the primary key, is
// appended in the same direction so that pages are stable; it may be empty.
// NULLs sort as the smallest value in every dialect. The result is empty only
// when q has no OrderBy and tieBreaker is empty.
func (q Query) OrderClause(tieBreaker string) string {
	dir, nulls := "ASC", "NULLS FIRST"
	if !q.OrderAsc {
		dir, nulls = "DESC", "NULLS LAST"
	}
	var parts []string
	if q.OrderBy.Expr != "" {
		parts = append(parts, q.OrderBy.Expr+" "+dir+" "+nulls)
	}
	if tieBreaker != "" && tieBreaker != q.OrderBy.Expr {
		parts = append(parts, tieBreaker+" "+dir)
	}
	return strings.Join(parts, ", ")
}
