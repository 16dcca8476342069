package listquery

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herdhq/herd/internal/apperr"
)

// Expressions of the test schema, shared with the SQLite and fuzz tests.
const (
	exprFile  = "json_extract(spec, '$.spark.file')"
	exprCores = "json_extract(spec, '$.spark.executorCores')"
	exprLog   = "json_extract(spec, '$.spark.logging')"
)

func confExpr(key string) string {
	return `json_extract(spec, '$.spark.conf."` + key + `"')`
}

// jobsSchema is a Schema like the one the /jobs endpoint uses.
func jobsSchema() *Schema {
	return &Schema{
		Fields: []Field{
			{Name: "id", Type: Int, Expr: "id", Sortable: true},
			{Name: "name", Type: String, Expr: "name", Sortable: true},
			{Name: "type", Type: String, Expr: "type", Sortable: true},
			{Name: "created", Type: Time, Expr: "created", Sortable: true},
			{Name: "paused", Type: Bool, Expr: "paused"},
			{Name: "spark.file", Type: String, Expr: exprFile},
			{Name: "spark.executorCores", Type: Int, Expr: exprCores, Sortable: true},
			{Name: "spark.logging", Type: Bool, Expr: exprLog},
		},
		Prefixes:     []Prefix{{Prefix: "spark.conf.", Type: String, ExprFor: confExpr}},
		DefaultOrder: "name",
	}
}

func mustValues(t *testing.T, raw string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("url.ParseQuery(%q): %v", raw, err)
	}
	return v
}

func TestSchemaValidate(t *testing.T) {
	if err := jobsSchema().Validate(); err != nil {
		t.Fatalf("jobsSchema: %v", err)
	}
	bad := map[string]*Schema{
		"duplicate":      {Fields: []Field{{Name: "a", Expr: "a"}, {Name: "A", Expr: "b"}}},
		"no name":        {Fields: []Field{{Expr: "a"}}},
		"no expr":        {Fields: []Field{{Name: "a"}}},
		"bad type":       {Fields: []Field{{Name: "a", Expr: "a", Type: 9}}},
		"no ExprFor":     {Prefixes: []Prefix{{Prefix: "x."}}},
		"empty prefix":   {Prefixes: []Prefix{{ExprFor: confExpr}}},
		"unsortable":     {Fields: []Field{{Name: "a", Expr: "a"}}, DefaultOrder: "a"},
		"unknown order":  {DefaultOrder: "zz"},
		"limits":         {DefaultLimit: 50, MaxLimit: 10},
		"negative limit": {DefaultLimit: -1},
	}
	for name, s := range bad {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: Validate() = nil, want an error", name)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	q, err := Parse(jobsSchema(), mustValues(t, "latestjob=true&includeFiles=1&Limit=x&foo=bar"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Limit != 20 || q.Offset != 0 || !q.OrderAsc || q.OrderBy.Name != "name" || len(q.Filters) != 0 {
		t.Errorf("defaults: got %+v", q)
	}
	if w, args := q.Where(SQLite, 1); w != "1=1" || len(args) != 0 {
		t.Errorf("Where = %q, %v; want 1=1 and no args", w, args)
	}
	if got := q.OrderClause("id"); got != "name ASC NULLS FIRST, id ASC" {
		t.Errorf("OrderClause = %q", got)
	}

	s := &Schema{Fields: []Field{{Name: "id", Expr: "id", Type: Int}}, DefaultLimit: 5, MaxLimit: 10}
	q, err = Parse(s, url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	if q.Limit != 5 || q.OrderBy != (Field{}) {
		t.Errorf("schema defaults: got %+v", q)
	}
	if got := q.OrderClause("id"); got != "id ASC" {
		t.Errorf("OrderClause without order field = %q", got)
	}
	if _, err := Parse(s, mustValues(t, "limit=11")); err == nil || !strings.Contains(err.Error(), "from 1 to 10") {
		t.Errorf("limit over schema max: err = %v", err)
	}
	if _, err := Parse(&Schema{DefaultOrder: "nope"}, url.Values{}); err == nil || apperr.KindOf(err) != apperr.Internal {
		t.Errorf("broken schema: err = %v, want an internal error", err)
	}
}

func TestParsePaging(t *testing.T) {
	tests := []struct {
		raw        string
		limit, off int
		order      string
		asc        bool
		clause     string
	}{
		{"limit=1&offset=0", 1, 0, "name", true, "name ASC NULLS FIRST, id ASC"},
		{"limit=1000&offset=123456", 1000, 123456, "name", true, "name ASC NULLS FIRST, id ASC"},
		{"orderby=ID&orderasc=false", 20, 0, "id", false, "id DESC NULLS LAST"},
		{"orderby=spark.EXECUTORCORES&orderasc=TRUE", 20, 0, "spark.executorCores", true, exprCores + " ASC NULLS FIRST, id ASC"},
		{"orderby=created&orderasc=False", 20, 0, "created", false, "created DESC NULLS LAST, id DESC"},
	}
	for _, tt := range tests {
		q, err := Parse(jobsSchema(), mustValues(t, tt.raw))
		if err != nil {
			t.Errorf("%s: %v", tt.raw, err)
			continue
		}
		if q.Limit != tt.limit || q.Offset != tt.off || q.OrderBy.Name != tt.order || q.OrderAsc != tt.asc {
			t.Errorf("%s: got limit %d offset %d order %q asc %v", tt.raw, q.Limit, q.Offset, q.OrderBy.Name, q.OrderAsc)
		}
		if got := q.OrderClause("id"); got != tt.clause {
			t.Errorf("%s: OrderClause = %q, want %q", tt.raw, got, tt.clause)
		}
	}
}

func TestParseFilters(t *testing.T) {
	tests := []struct {
		raw   string
		where string
		args  []any
	}{
		// Every operator on String fields; req is eq.
		{"filter=type[eq]spark", "type = $1", []any{"spark"}},
		{"filter=type[req]spark", "type = $1", []any{"spark"}},
		{"filter=type[EQ]spark", "type = $1", []any{"spark"}},
		{"filter=type[noteq]spark", "(type IS NULL OR type <> $1)", []any{"spark"}},
		{"filter=name[lt]m", "name < $1", []any{"m"}},
		{"filter=name[lte]m", "name <= $1", []any{"m"}},
		{"filter=name[gt]m", "name > $1", []any{"m"}},
		{"filter=name[gte]m", "name >= $1", []any{"m"}},
		{"filter=type[in]spark,airflow", "type IN ($1, $2)", []any{"spark", "airflow"}},
		{"filter=type[notin]spark", "(type IS NULL OR type NOT IN ($1))", []any{"spark"}},
		{"filter=name[like]%25ETL%25", "name LIKE $1", []any{"%ETL%"}},
		{"filter=name[rlike]^etl-(daily|weekly)$", "name REGEXP $1", []any{"^etl-(daily|weekly)$"}},
		{"filter=name[eq]", "name = $1", []any{""}},
		{"filter=name[eq]a b ", "name = $1", []any{"a b "}},
		{"filter=name[in]a,,b", "name IN ($1, $2, $3)", []any{"a", "", "b"}},
		{"filter=spark.file[eq]etl.py", exprFile + " = $1", []any{"etl.py"}},
		// Int fields.
		{"filter=id[eq]12", "id = $1", []any{int64(12)}},
		{"filter=id[noteq]-3", "(id IS NULL OR id <> $1)", []any{int64(-3)}},
		{"filter=spark.executorCores[lt]2", exprCores + " < $1", []any{int64(2)}},
		{"filter=id[lte]2", "id <= $1", []any{int64(2)}},
		{"filter=id[gt]2", "id > $1", []any{int64(2)}},
		{"filter=id[gte]2", "id >= $1", []any{int64(2)}},
		{"filter=id[in]12,14, 16", "id IN ($1, $2, $3)", []any{int64(12), int64(14), int64(16)}},
		{"filter=id[notin]12,14", "(id IS NULL OR id NOT IN ($1, $2))", []any{int64(12), int64(14)}},
		// Bool fields.
		{"filter=paused[eq]true", "paused = $1", []any{int64(1)}},
		{"filter=paused[noteq]TRUE", "(paused IS NULL OR paused <> $1)", []any{int64(1)}},
		{"filter=spark.logging[eq]false", exprLog + " = $1", []any{int64(0)}},
		// Time fields.
		{"filter=created[eq]2023-11-23", "created = $1", []any{int64(1700697600000)}},
		{"filter=created[noteq]2023-11-23", "(created IS NULL OR created <> $1)", []any{int64(1700697600000)}},
		{"filter=created[lt]2023-11-29T03", "created < $1", []any{int64(1701226800000)}},
		{"filter=created[lte]2023-11-29T03:04", "created <= $1", []any{int64(1701227040000)}},
		{"filter=created[gt]2023-11-29T03:04:05", "created > $1", []any{int64(1701227045000)}},
		{"filter=created[gte]2023-11-29T03:04:05.678Z", "created >= $1", []any{int64(1701227045678)}},
		{"filter=created[in]2023-11-23,2023-11-29T03", "created IN ($1, $2)", []any{int64(1700697600000), int64(1701226800000)}},
		{"filter=created[notin]2023-11-23", "(created IS NULL OR created NOT IN ($1))", []any{int64(1700697600000)}},
		// Case-insensitive field names; Prefix fields keep the key's case.
		{"filter=NAME[eq]x", "name = $1", []any{"x"}},
		{"filter=Spark.ExecutorCores[gte]4", exprCores + " >= $1", []any{int64(4)}},
		{"filter=spark.conf.spark.executor.instances[eq]2", confExpr("spark.executor.instances") + " = $1", []any{"2"}},
		{"filter=SPARK.CONF.spark.Driver-Memory_x[like]1%25", confExpr("spark.Driver-Memory_x") + " LIKE $1", []any{"1%"}},
		// Repeated filters and " AND " inside one value are ANDed.
		{"filter=type[eq]spark&filter=id[gt]3", "type = $1 AND id > $2", []any{"spark", int64(3)}},
		{"filter=type[eq]spark AND id[gt]3 AND name[like]e%25", "type = $1 AND id > $2 AND name LIKE $3", []any{"spark", int64(3), "e%"}},
		{"filter=type[eq]spark AND id[gt]3&filter=paused[eq]false", "type = $1 AND id > $2 AND paused = $3", []any{"spark", int64(3), int64(0)}},
		// " AND " not followed by a clause is part of the value.
		{"filter=name[eq]Tom AND Jerry", "name = $1", []any{"Tom AND Jerry"}},
		{"filter=name[eq]x AND ", "name = $1", []any{"x AND "}},
		{"filter=name[eq]x and id[eq]1", "name = $1", []any{"x and id[eq]1"}},
	}
	for _, tt := range tests {
		q, err := Parse(jobsSchema(), mustValues(t, tt.raw))
		if err != nil {
			t.Errorf("%s: %v", tt.raw, err)
			continue
		}
		where, args := q.Where(SQLite, 1)
		if where != tt.where {
			t.Errorf("%s: Where = %q, want %q", tt.raw, where, tt.where)
		}
		if diff := cmp.Diff(tt.args, args); diff != "" {
			t.Errorf("%s: args (-want +got):\n%s", tt.raw, diff)
		}
	}
}

func TestWhereFirstArgAndDialects(t *testing.T) {
	q, err := Parse(jobsSchema(), mustValues(t,
		"filter=name[like]a%25&filter=name[rlike]^a&filter=paused[eq]true&filter=id[in]1,2"))
	if err != nil {
		t.Fatal(err)
	}
	where, args := q.Where(SQLite, 3)
	if want := "name LIKE $3 AND name REGEXP $4 AND paused = $5 AND id IN ($6, $7)"; where != want {
		t.Errorf("SQLite from $3: %q, want %q", where, want)
	}
	if diff := cmp.Diff([]any{"a%", "^a", int64(1), int64(1), int64(2)}, args); diff != "" {
		t.Errorf("SQLite args (-want +got):\n%s", diff)
	}
	where, args = q.Where(PostgreSQL, 0)
	if want := "name ILIKE $1 ESCAPE '' AND name ~ $2 AND paused = $3 AND id IN ($4, $5)"; where != want {
		t.Errorf("PostgreSQL: %q, want %q", where, want)
	}
	if diff := cmp.Diff([]any{"a%", "^a", true, int64(1), int64(2)}, args); diff != "" {
		t.Errorf("PostgreSQL args (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		raw  string
		want string
	}{
		{"limit=abc", `limit "abc": want an integer from 1 to 1000`},
		{"limit=0", `limit "0": want an integer from 1 to 1000`},
		{"limit=-1", `limit "-1": want an integer from 1 to 1000`},
		{"limit=1001", `limit "1001": want an integer from 1 to 1000`},
		{"limit=2.5", `limit "2.5": want an integer`},
		{"limit=", `limit "": want an integer`},
		{"limit=99999999999999999999", `want an integer from 1 to 1000`},
		{"limit=1&limit=2", `limit given 2 times; give it once`},
		{"offset=-1", `offset "-1": want an integer of 0 or more`},
		{"offset=x", `offset "x": want an integer of 0 or more`},
		{"offset=1&offset=1", `offset given 2 times`},
		{"orderby=nope", `orderby "nope": not a sortable field; use one of id, name, type, created, spark.executorCores`},
		{"orderby=paused", `orderby "paused": not a sortable field`},
		{"orderby=spark.conf.x", `orderby "spark.conf.x": not a sortable field`},
		{"orderby=", `orderby "": not a sortable field`},
		{"orderasc=yes", `orderasc "yes": want true or false`},
		{"orderasc=", `orderasc "": want true or false`},
		{"orderasc=1&orderasc=0", `orderasc given 2 times`},
		{"filter=name", `filter "name": want field[op]value`},
		{"filter=", `filter "": want field[op]value`},
		{"filter=name[eq", `filter "name[eq": want field[op]value`},
		{"filter=[eq]x", `filter "[eq]x": want field[op]value`},
		{"filter=name[eqq]x", `filter "name[eqq]x": unknown operator "eqq"; use eq, noteq, lt, lte, gt, gte, in, notin, like, rlike`},
		{"filter=name[]x", `unknown operator ""`},
		{"filter=spark.nope[eq]1", `filter "spark.nope[eq]1": unknown field "spark.nope"; filterable fields: id, name, type, created, paused, spark.file, spark.executorCores, spark.logging, spark.conf.<key>`},
		{"filter=spark.conf.[eq]1", `filter "spark.conf.[eq]1": invalid key "" after "spark.conf."`},
		{"filter=spark.conf.a'b[eq]1", `invalid key "a'b" after "spark.conf."; a key is one or more ASCII letters, digits, '_', '.' or '-'`},
		{"filter=spark.conf.a b[eq]1", `invalid key "a b"`},
		{"filter=id[eq]x", `filter "id[eq]x": want an integer, got "x"`},
		{"filter=id[eq]", `filter "id[eq]": want an integer, got ""`},
		{"filter=id[in]1,,2", `want an integer, got ""`},
		{"filter=id[in]1,x", `want an integer, got "x"`},
		{"filter=id[like]1", `filter "id[like]1": operator "like" does not apply to integer field "id"; use eq, noteq, lt, lte, gt, gte, in, notin`},
		{"filter=spark.executorCores[rlike]1", `operator "rlike" does not apply to integer field "spark.executorCores"`},
		{"filter=paused[eq]yes", `filter "paused[eq]yes": want true or false, got "yes"`},
		{"filter=paused[eq]", `want true or false, got ""`},
		{"filter=paused[lt]true", `operator "lt" does not apply to boolean field "paused"; use eq, noteq`},
		{"filter=paused[in]true", `operator "in" does not apply to boolean field "paused"`},
		{"filter=created[like]2023", `operator "like" does not apply to time field "created"`},
		{"filter=created[rlike]2023", `operator "rlike" does not apply to time field "created"`},
		{"filter=created[gt]yesterday", `filter "created[gt]yesterday": want an RFC 3339 time such as 2023-11-23, 2023-11-23T10:30 or 2023-11-23T10:30:00Z, got "yesterday"`},
		{"filter=created[gt]", `want an RFC 3339 time`},
		{"filter=created[gt]2023-02-30", `want an RFC 3339 time`},
		{"filter=name[rlike](", `filter "name[rlike](": invalid regular expression: error parsing regexp: missing closing )`},
		{"filter=type[eq]spark AND name[eqq]x", `filter "name[eqq]x": unknown operator "eqq"`},
		{"filter=name[in]" + strings.Repeat("a,", 1000), `too many filter values; a query may have at most 1000`},
		{"filter=name[" + strings.Repeat("x", 200), `filter "name[` + strings.Repeat("x", 75) + `"...: want field[op]value`},
	}
	for _, tt := range tests {
		_, err := Parse(jobsSchema(), mustValues(t, tt.raw))
		if err == nil {
			t.Errorf("%.60s: no error, want %q", tt.raw, tt.want)
			continue
		}
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Kind != apperr.Invalid {
			t.Errorf("%.60s: error %v is not an apperr Invalid", tt.raw, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%.60s: error %q, want it to contain %q", tt.raw, err, tt.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"2023-11-23", 1700697600000},
		{"2023-11-29T03", 1701226800000},
		{"2023-11-29T03:04", 1701227040000},
		{"2023-11-29T03:04:05", 1701227045000},
		{"2023-11-29T03:04:05Z", 1701227045000},
		{"2023-11-29t03:04:05z", 1701227045000},
		{"2023-11-29T03:04:05.6Z", 1701227045600},
		{"2023-11-29T03:04:05.678", 1701227045678},
		{"2023-11-29T03:04:05.678999999Z", 1701227045678},
		{"2023-11-29T03:04:05+02:00", 1701227045000 - 2*3600*1000},
		{"2023-11-29T03:04:05 02:00", 1701227045000 - 2*3600*1000}, // an unencoded '+'
		{"2023-11-29T03:04:05-01:30", 1701227045000 + 90*60*1000},
		{"2023-11-29T03:04+01:00", 1701227040000 - 3600*1000},
		{"2023-11-29T03Z", 1701226800000},
		{"2024-02-29", 1709164800000},
		{"1970-01-01", 0},
		{"1969-12-31T23:59:59.999Z", -1},
		{" 2023-11-23 ", 1700697600000}, // surrounding spaces are trimmed
	}
	for _, tt := range tests {
		v, err := parseArg(Time, tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if v != tt.want {
			t.Errorf("%q = %v, want %d", tt.in, v, tt.want)
		}
	}
	for _, bad := range []string{
		"", "2023", "2023-11", "2023-1-2", "23-11-23", "2023-11-23T", "2023-11-23T3", "2023-11-23T03:4",
		"2023-11-23T03:04:5", "2023-11-23T03:04:05.", "2023-11-23T03:04:05.1234567890", "2023-13-01",
		"2023-00-01", "2023-11-00", "2023-11-31", "2023-02-29", "2023-11-23T24", "2023-11-23T23:60",
		"2023-11-23T23:59:60", "2023-11-23Z", "2023-11-23T03+0200", "2023-11-23T03+24:00",
		"2023-11-23T03+02:60", "2023-11-23 03:04", "１２３４-11-23", "1700697600000",
	} {
		if ms, ok := parseTime(bad); ok {
			t.Errorf("parseTime(%q) = %d, want failure", bad, ms)
		}
	}
}

func TestDecodeQuery(t *testing.T) {
	v := DecodeQuery("filter=name[like]%ETL%&filter=name[like]%25x%25&&a&b=1+2%2B3&orderby=%zz&limit=5=6&%3D=%")
	want := url.Values{
		"filter":  {"name[like]%ETL%", "name[like]%x%"},
		"a":       {""},
		"b":       {"1 2+3"},
		"orderby": {"%zz"},
		"limit":   {"5=6"},
		"=":       {"%"},
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("DecodeQuery (-want +got):\n%s", diff)
	}
	for _, raw := range []string{"a=1&b=%20x&c=%C3%A9", "filter=type%5Beq%5Dspark"} {
		std, err := url.ParseQuery(raw)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(std, DecodeQuery(raw)); diff != "" {
			t.Errorf("%s: DecodeQuery differs from url.ParseQuery (-std +got):\n%s", raw, diff)
		}
	}
}

func TestTypeString(t *testing.T) {
	for typ, want := range map[Type]string{String: "string", Int: "integer", Bool: "boolean", Time: "time", 7: "Type(7)"} {
		if got := typ.String(); got != want {
			t.Errorf("Type(%d).String() = %q, want %q", int(typ), got, want)
		}
	}
}

// TestParseLongInput guards against work that grows faster than the input.
func TestParseLongInput(t *testing.T) {
	long := []string{
		"name[eq]" + strings.Repeat(" AND x", 200000),
		"name[eq]" + strings.Repeat(" AND x[", 200000),
		"name[eq]" + strings.Repeat(" AND x[eq", 200000),
		strings.Repeat("a", 1<<20) + "[eq]x",
	}
	for _, f := range long {
		done := make(chan struct{})
		go func() {
			defer close(done)
			Parse(jobsSchema(), url.Values{"filter": {f}})
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Parse of a %d-byte filter (%.20q...) takes over 5s", len(f), f)
		}
	}
}
