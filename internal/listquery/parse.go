package listquery

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/herdhq/herd/internal/apperr"
)

// Op is a filter operator.
type Op string

// The filter operators. "req" in a request is read as Eq.
const (
	Eq    Op = "eq"
	NotEq Op = "noteq"
	Lt    Op = "lt"
	Lte   Op = "lte"
	Gt    Op = "gt"
	Gte   Op = "gte"
	In    Op = "in"
	NotIn Op = "notin"
	Like  Op = "like"
	RLike Op = "rlike"
)

// allOps lists every operator, in the order error messages name them.
func allOps() []Op {
	return []Op{Eq, NotEq, Lt, Lte, Gt, Gte, In, NotIn, Like, RLike}
}

// maxArgs caps the values one query may bind, far below SQLite's limit on
// SQL variables.
const maxArgs = 1000

// Query is a parsed list query.
type Query struct {
	Limit  int // rows to return, 1 to the schema's MaxLimit
	Offset int // rows to skip, 0 or more
	// OrderBy is the field to sort on; the zero Field when the request has
	// no orderby and the schema no DefaultOrder.
	OrderBy  Field
	OrderAsc bool
	Filters  []Filter // all must hold
}

// Filter is one parsed filter clause.
type Filter struct {
	// Field is the field filtered on. For a Prefix field, Name is the name
	// as the client wrote it and Expr comes from the Prefix's ExprFor.
	Field Field
	Op    Op
	// Args are the values to bind: string for String fields, int64 for Int,
	// Bool (1 or 0) and Time (Unix milliseconds) fields. In and NotIn have
	// one or more, every other operator exactly one.
	Args []any
}

// Parse reads the list-query parameters of v: limit, offset, orderby,
// orderasc and filter. Other parameters are ignored. Every error is an
// *apperr.Error of kind apperr.Invalid whose message says what to fix, except
// for a schema whose DefaultOrder is not a sortable field (see
// Schema.Validate), which yields an internal error.
func Parse(s *Schema, v url.Values) (Query, error) {
	q := Query{Limit: s.defaultLimit(), OrderAsc: true}
	var err error
	if q.Limit, err = parseLimit(v, s.defaultLimit(), s.maxLimit()); err != nil {
		return Query{}, err
	}
	if q.Offset, err = parseOffset(v); err != nil {
		return Query{}, err
	}
	if q.OrderBy, err = parseOrderBy(s, v); err != nil {
		return Query{}, err
	}
	if q.OrderAsc, err = parseOrderAsc(v); err != nil {
		return Query{}, err
	}
	if q.Filters, err = parseFilters(s, v["filter"]); err != nil {
		return Query{}, err
	}
	return q, nil
}

func invalid(format string, args ...any) error {
	return apperr.New(apperr.Invalid, format, args...)
}

// single returns the one value of parameter name, if present.
func single(v url.Values, name string) (string, bool, error) {
	vals := v[name]
	switch len(vals) {
	case 0:
		return "", false, nil
	case 1:
		return vals[0], true, nil
	default:
		return "", false, invalid("%s given %d times; give it once", name, len(vals))
	}
}

func parseLimit(v url.Values, def, maxLimit int) (int, error) {
	raw, ok, err := single(v, "limit")
	if err != nil || !ok {
		return def, err
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxLimit {
		return 0, invalid("limit %s: want an integer from 1 to %d", clip(raw), maxLimit)
	}
	return n, nil
}

func parseOffset(v url.Values) (int, error) {
	raw, ok, err := single(v, "offset")
	if err != nil || !ok {
		return 0, err
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, invalid("offset %s: want an integer of 0 or more", clip(raw))
	}
	return n, nil
}

func parseOrderBy(s *Schema, v url.Values) (Field, error) {
	raw, ok, err := single(v, "orderby")
	if err != nil {
		return Field{}, err
	}
	if !ok {
		if s.DefaultOrder == "" {
			return Field{}, nil
		}
		f, found := s.field(s.DefaultOrder)
		if !found || !f.Sortable {
			return Field{}, fmt.Errorf("listquery: default order %q is not a sortable field", s.DefaultOrder)
		}
		return f, nil
	}
	f, found := s.field(raw)
	if !found || !f.Sortable {
		return Field{}, invalid("orderby %s: not a sortable field; use one of %s", clip(raw), s.sortable())
	}
	return f, nil
}

func parseOrderAsc(v url.Values) (bool, error) {
	raw, ok, err := single(v, "orderasc")
	if err != nil || !ok {
		return true, err
	}
	b, ok := parseBool(raw)
	if !ok {
		return false, invalid("orderasc %s: want true or false", clip(raw))
	}
	return b, nil
}

// parseBool accepts true and false in any letter case.
func parseBool(s string) (value, ok bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	default:
		return false, false
	}
}

func parseFilters(s *Schema, params []string) ([]Filter, error) {
	var filters []Filter
	nargs := 0
	for _, param := range params {
		for _, clause := range splitClauses(param) {
			f, err := parseClause(s, clause)
			if err != nil {
				return nil, err
			}
			if nargs += len(f.Args); nargs > maxArgs {
				return nil, invalid("filter %s: too many filter values; a query may have at most %d", clip(clause), maxArgs)
			}
			filters = append(filters, f)
		}
	}
	return filters, nil
}

// splitClauses splits one filter parameter at every " AND " that is followed
// by the start of another clause (name[op]), so that a value may itself
// contain " AND ".
func splitClauses(param string) []string {
	const sep = " AND "
	var clauses []string
	start := 0
	for i := 0; ; {
		j := strings.Index(param[i:], sep)
		if j < 0 {
			break
		}
		at := i + j
		i = at + len(sep)
		if startsClause(param[i:]) {
			clauses = append(clauses, param[start:at])
			start = i
		}
	}
	return append(clauses, param[start:])
}

// startsClause reports whether s begins with name[op]: a name without
// spaces or brackets, then an operator of ASCII letters in brackets. It stops
// at the first space, so splitClauses stays linear in the parameter's length.
func startsClause(s string) bool {
	open := strings.IndexAny(s, " \t[]")
	if open <= 0 || s[open] != '[' {
		return false
	}
	i := open + 1
	for i < len(s) && ('a' <= s[i] && s[i] <= 'z' || 'A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	return i > open+1 && i < len(s) && s[i] == ']'
}

// parseClause parses one field[op]argument clause.
func parseClause(s *Schema, clause string) (Filter, error) {
	name, rest, ok := strings.Cut(clause, "[")
	name = strings.TrimSpace(name)
	rawOp, arg, ok2 := strings.Cut(rest, "]")
	if !ok || !ok2 || name == "" {
		return Filter{}, invalid("filter %s: want field[op]value, e.g. name[eq]etl", clip(clause))
	}
	op, ok := parseOp(rawOp)
	if !ok {
		return Filter{}, invalid("filter %s: unknown operator %s; use %s", clip(clause), clip(rawOp), joinOps(allOps()))
	}
	field, err := resolveField(s, clause, name)
	if err != nil {
		return Filter{}, err
	}
	if allowed := opsFor(field.Type); !hasOp(allowed, op) {
		return Filter{}, invalid("filter %s: operator %q does not apply to %s field %q; use %s",
			clip(clause), op, field.Type, field.Name, joinOps(allowed))
	}
	args, err := parseArgs(clause, field.Type, op, arg)
	if err != nil {
		return Filter{}, err
	}
	return Filter{Field: field, Op: op, Args: args}, nil
}

// parseOp reads an operator in any letter case; req is an alias of eq.
func parseOp(raw string) (Op, bool) {
	op := Op(strings.ToLower(raw))
	if op == "req" {
		return Eq, true
	}
	return op, hasOp(allOps(), op)
}

func hasOp(ops []Op, op Op) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

func joinOps(ops []Op) string {
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}

// opsFor returns the operators that apply to fields of type t.
func opsFor(t Type) []Op {
	switch t {
	case String:
		return allOps()
	case Bool:
		return []Op{Eq, NotEq}
	default:
		return []Op{Eq, NotEq, Lt, Lte, Gt, Gte, In, NotIn}
	}
}

// resolveField finds the declared or Prefix field called name.
func resolveField(s *Schema, clause, name string) (Field, error) {
	if f, ok := s.field(name); ok {
		return f, nil
	}
	p, key, ok := s.prefix(name)
	if !ok {
		return Field{}, invalid("filter %s: unknown field %s; filterable fields: %s", clip(clause), clip(name), s.filterable())
	}
	if !prefixKeyRE.MatchString(key) {
		return Field{}, invalid("filter %s: invalid key %s after %q; a key is one or more ASCII letters, digits, '_', '.' or '-'",
			clip(clause), clip(key), p.Prefix)
	}
	return Field{Name: name, Type: p.Type, Expr: p.ExprFor(key)}, nil
}

// parseArgs parses the argument of a clause into the values to bind.
func parseArgs(clause string, t Type, op Op, arg string) ([]any, error) {
	parts := []string{arg}
	if op == In || op == NotIn {
		parts = strings.Split(arg, ",")
	}
	args := make([]any, 0, len(parts))
	for _, p := range parts {
		a, err := parseArg(t, p)
		if err != nil {
			return nil, invalid("filter %s: %s", clip(clause), err)
		}
		args = append(args, a)
	}
	if op == RLike {
		if _, err := regexp.Compile(arg); err != nil {
			return nil, invalid("filter %s: invalid regular expression: %s", clip(clause), err)
		}
	}
	return args, nil
}

// argError is a plain error whose text parseArgs puts after the clause.
type argError string

func (e argError) Error() string { return string(e) }

// parseArg parses one value of type t. Values of types other than String
// may have surrounding spaces.
func parseArg(t Type, raw string) (any, error) {
	if t == String {
		return raw, nil
	}
	s := strings.TrimSpace(raw)
	switch t {
	case Int:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, argError(fmt.Sprintf("want an integer, got %s", clip(raw)))
		}
		return n, nil
	case Bool:
		b, ok := parseBool(s)
		if !ok {
			return nil, argError(fmt.Sprintf("want true or false, got %s", clip(raw)))
		}
		if b {
			return int64(1), nil
		}
		return int64(0), nil
	default:
		ms, ok := parseTime(s)
		if !ok {
			return nil, argError(fmt.Sprintf("want an RFC 3339 time such as 2023-11-23, 2023-11-23T10:30 or 2023-11-23T10:30:00Z, got %s", clip(raw)))
		}
		return ms, nil
	}
}

// clip quotes s for an error message, shortened if it is long.
func clip(s string) string {
	const maxLen = 80
	if len(s) <= maxLen {
		return strconv.Quote(s)
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}
