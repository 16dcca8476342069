package listquery

import (
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/herdhq/herd/internal/apperr"
)

// sqlToken matches one token of SQL that Where and OrderClause may produce
// once schema expressions are replaced by EXPR.
var sqlToken = regexp.MustCompile(`^(?:\s+|\$[0-9]+|[A-Z]+|1=1|''|<=|>=|<>|[=<>(),~])`)

// confExprRE matches the expressions the test schema's Prefix makes.
var confExprRE = regexp.MustCompile(`json_extract\(spec, '\$\.spark\.conf\."[A-Za-z0-9_.-]+"'\)`)

// isSQLWord reports whether w is a keyword Where or OrderClause may write,
// or EXPR, which stands for a schema expression.
func isSQLWord(w string) bool {
	switch w {
	case "EXPR", "AND", "OR", "IS", "NOT", "NULL", "IN", "LIKE", "ILIKE", "ESCAPE", "REGEXP",
		"ASC", "DESC", "NULLS", "FIRST", "LAST":
		return true
	}
	return false
}

// checkSQL fails unless sql is made only of schema expressions, keywords,
// operators and placeholders, and returns the placeholder numbers in order.
func checkSQL(t *testing.T, s *Schema, sql string) []int {
	t.Helper()
	exprs := make([]string, 0, len(s.Fields))
	for _, f := range s.Fields {
		exprs = append(exprs, f.Expr)
	}
	slices.SortFunc(exprs, func(a, b string) int { return len(b) - len(a) }) // longest first
	rest := confExprRE.ReplaceAllString(sql, " EXPR ")
	for _, e := range exprs {
		rest = strings.ReplaceAll(rest, e, " EXPR ")
	}
	var placeholders []int
	for rest != "" {
		tok := sqlToken.FindString(rest)
		if tok == "" {
			t.Fatalf("unexpected SQL text at %.40q in %q", rest, sql)
		}
		rest = rest[len(tok):]
		switch {
		case tok[0] == '$':
			n, _ := strconv.Atoi(tok[1:])
			placeholders = append(placeholders, n)
		case tok[0] >= 'A' && tok[0] <= 'Z' && !isSQLWord(tok):
			t.Fatalf("unexpected word %q in %q", tok, sql)
		}
	}
	return placeholders
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"limit=5&offset=3&orderby=NAME&orderasc=false",
		"filter=type[eq]spark&filter=id[in]12,14,16",
		"filter=name[like]%25ETL%25",
		"filter=name[like]%ETL%",
		"filter=spark.executorCores[lt]2 AND created[gte]2023-11-23T03:04:05.1%2B02:00",
		"filter=spark.conf.spark.executor.instances[notin]1,2",
		"filter=paused[noteq]true&filter=spark.logging[req]FALSE",
		"filter=name[rlike]^a(b|c)*$&filter=name[eq]x AND y",
		"filter=name[eq]' OR 1=1 --",
		"filter=spark.conf.a'--[eq]1",
		"filter=id[eqq]1&limit=abc",
		"filter=created[in]2023-11-23,2023-11-29T03",
	} {
		f.Add(seed)
	}
	s := jobsSchema()
	f.Fuzz(func(t *testing.T, raw string) {
		std, _ := url.ParseQuery(raw) // keep the pairs that parsed
		for _, v := range []url.Values{std, DecodeQuery(raw)} {
			checkQuery(t, s, v)
		}
	})
}

// checkQuery asserts FuzzParse's invariants for one set of values.
func checkQuery(t *testing.T, s *Schema, v url.Values) {
	t.Helper()
	q, err := Parse(s, v)
	if err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Kind != apperr.Invalid || ae.Msg == "" {
			t.Fatalf("Parse error %#v is not an apperr.Invalid", err)
		}
		return
	}
	if q.Limit < 1 || q.Limit > MaxLimit || q.Offset < 0 {
		t.Fatalf("limit %d, offset %d out of range", q.Limit, q.Offset)
	}
	for _, d := range []Dialect{SQLite, PostgreSQL} {
		for _, first := range []int{1, 7} {
			sql, args := q.Where(d, first)
			got := checkSQL(t, s, sql)
			if len(got) != len(args) {
				t.Fatalf("%q has %d placeholders for %d args", sql, len(got), len(args))
			}
			for i, n := range got {
				if n != first+i {
					t.Fatalf("%q: placeholder %d is $%d, want $%d", sql, i, n, first+i)
				}
			}
			for _, a := range args {
				switch a.(type) {
				case string, int64, bool:
				default:
					t.Fatalf("%q: arg %#v has type %T", sql, a, a)
				}
			}
		}
	}
	if got := checkSQL(t, s, q.OrderClause("id")); len(got) != 0 {
		t.Fatalf("OrderClause has placeholders: %v", got)
	}
}
