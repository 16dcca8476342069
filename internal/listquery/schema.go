package listquery

import (
	"fmt"
	"regexp"
	"strings"
)

// Type is the value type of a field. It decides how filter arguments are
// parsed and bound, and which operators apply.
type Type int

// The field types.
const (
	String Type = iota // text, bound as string; every operator applies
	Int                // integer, bound as int64; no like or rlike
	Bool               // true or false, bound as int64 1 or 0; eq and noteq only
	Time               // an instant; the SQL expression yields Unix milliseconds, bound as int64; no like or rlike
)

// String returns the type's name as used in error messages.
func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Int:
		return "integer"
	case Bool:
		return "boolean"
	case Time:
		return "time"
	default:
		return fmt.Sprintf("Type(%d)", int(t))
	}
}

// Field is one filterable (and possibly sortable) field of a collection.
type Field struct {
	// Name is the field as clients write it, e.g. "name" or
	// "spark.executorCores"; clients may use any letter case.
	Name string
	// Type is the type of the value Expr yields.
	Type Type
	// Expr is the SQL expression for the value, e.g. "name" or
	// "json_extract(spec, '$.spark.executorCores')". It must be a single
	// operand (a column, a function call or a parenthesised expression).
	Expr string
	// Sortable allows the field in orderby.
	Sortable bool
}

// Prefix is an open-ended family of fields, e.g. Prefix "spark.conf." for
// every "spark.conf.<key>". Prefix fields can be filtered on, not sorted on.
type Prefix struct {
	// Prefix is what every field name of the family starts with; the letter
	// case of the prefix is ignored, that of the key is kept.
	Prefix string
	// Type is the type of every field of the family.
	Type Type
	// ExprFor returns the SQL expression for the field Prefix+key. The key is
	// never empty and contains only ASCII letters, digits, '_', '.' and '-';
	// ExprFor must still put it inside a quoted literal, e.g.
	// json_extract(spec, '$.spark.conf."<key>"').
	ExprFor func(key string) string
}

// Schema describes the list query of one collection.
type Schema struct {
	Fields   []Field
	Prefixes []Prefix
	// DefaultOrder names the sortable field to order by when the request
	// has no orderby; empty leaves only the caller's tie-breaker.
	DefaultOrder string
	// DefaultLimit is the limit when the request has none; 0 means 20.
	DefaultLimit int
	// MaxLimit is the largest limit a request may ask for; 0 means 1000.
	MaxLimit int
}

// Default limits, used when a Schema leaves DefaultLimit or MaxLimit zero.
const (
	DefaultLimit = 20
	MaxLimit     = 1000
)

// prefixKeyRE is what a key after a Prefix may look like.
var prefixKeyRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Validate reports a Schema that Parse cannot serve correctly: empty or
// duplicate names, missing expressions, unknown types, a DefaultOrder that is
// not a sortable field, or limits out of order. Call it once, e.g. in a test.
func (s *Schema) Validate() error {
	seen := make(map[string]bool)
	for _, f := range s.Fields {
		key := strings.ToLower(f.Name)
		switch {
		case f.Name == "":
			return fmt.Errorf("listquery: field with expression %q has no name", f.Expr)
		case seen[key]:
			return fmt.Errorf("listquery: field %q declared twice", f.Name)
		case strings.TrimSpace(f.Expr) == "":
			return fmt.Errorf("listquery: field %q has no expression", f.Name)
		case f.Type < String || f.Type > Time:
			return fmt.Errorf("listquery: field %q has unknown type %v", f.Name, f.Type)
		}
		seen[key] = true
	}
	for _, p := range s.Prefixes {
		switch {
		case p.Prefix == "":
			return fmt.Errorf("listquery: empty prefix")
		case p.ExprFor == nil:
			return fmt.Errorf("listquery: prefix %q has no ExprFor", p.Prefix)
		case p.Type < String || p.Type > Time:
			return fmt.Errorf("listquery: prefix %q has unknown type %v", p.Prefix, p.Type)
		}
	}
	if s.DefaultOrder != "" {
		if f, ok := s.field(s.DefaultOrder); !ok || !f.Sortable {
			return fmt.Errorf("listquery: default order %q is not a sortable field", s.DefaultOrder)
		}
	}
	if s.DefaultLimit < 0 || s.MaxLimit < 0 || s.defaultLimit() > s.maxLimit() {
		return fmt.Errorf("listquery: want 0 < default limit %d <= max limit %d", s.defaultLimit(), s.maxLimit())
	}
	return nil
}

func (s *Schema) defaultLimit() int {
	if s.DefaultLimit > 0 {
		return s.DefaultLimit
	}
	return DefaultLimit
}

func (s *Schema) maxLimit() int {
	if s.MaxLimit > 0 {
		return s.MaxLimit
	}
	return MaxLimit
}

// field returns the declared field called name, ignoring letter case.
func (s *Schema) field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
	}
	return Field{}, false
}

// prefix returns the Prefix family name belongs to and the key after it.
func (s *Schema) prefix(name string) (Prefix, string, bool) {
	for _, p := range s.Prefixes {
		if len(name) >= len(p.Prefix) && strings.EqualFold(name[:len(p.Prefix)], p.Prefix) {
			return p, name[len(p.Prefix):], true
		}
	}
	return Prefix{}, "", false
}

// filterable lists the names a filter may use, for error messages.
func (s *Schema) filterable() string {
	names := make([]string, 0, len(s.Fields)+len(s.Prefixes))
	for _, f := range s.Fields {
		names = append(names, f.Name)
	}
	for _, p := range s.Prefixes {
		names = append(names, p.Prefix+"<key>")
	}
	return strings.Join(names, ", ")
}

// sortable lists the names orderby may use, for error messages.
func (s *Schema) sortable() string {
	var names []string
	for _, f := range s.Fields {
		if f.Sortable {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, ", ")
}
