package apidocs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Render returns the HTML page of an OpenAPI 3.0 document (YAML).
func Render(src []byte) ([]byte, error) { return renderDocsPage(src) }

// The part of an OpenAPI 3.0 document the page shows.

type oaDoc struct {
	Info struct {
		Title       string `yaml:"title"`
		Version     string `yaml:"version"`
		Description string `yaml:"description"`
	} `yaml:"info"`
	Servers []struct {
		URL string `yaml:"url"`
	} `yaml:"servers"`
	Security []map[string][]string `yaml:"security"`
	Tags     []struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
	} `yaml:"tags"`
	Paths      ordered[oaPathItem] `yaml:"paths"`
	Components struct {
		Schemas         ordered[*oaSchema]         `yaml:"schemas"`
		Parameters      map[string]*oaParam        `yaml:"parameters"`
		Responses       map[string]*oaResponse     `yaml:"responses"`
		SecuritySchemes ordered[*oaSecurityScheme] `yaml:"securitySchemes"`
	} `yaml:"components"`
}

type oaSecurityScheme struct {
	Type         string `yaml:"type"`
	Scheme       string `yaml:"scheme"`
	BearerFormat string `yaml:"bearerFormat"`
	Description  string `yaml:"description"`
}

type oaPathItem struct {
	Parameters []*oaParam   `yaml:"parameters"`
	Get        *oaOperation `yaml:"get"`
	Post       *oaOperation `yaml:"post"`
	Put        *oaOperation `yaml:"put"`
	Patch      *oaOperation `yaml:"patch"`
	Delete     *oaOperation `yaml:"delete"`
	Head       *oaOperation `yaml:"head"`
	Options    *oaOperation `yaml:"options"`
}

// operations lists the item's operations in a fixed method order.
func (p oaPathItem) operations() []methodOp {
	var out []methodOp
	for _, m := range []methodOp{
		{http.MethodGet, p.Get}, {http.MethodPost, p.Post}, {http.MethodPut, p.Put},
		{http.MethodPatch, p.Patch}, {http.MethodDelete, p.Delete},
		{http.MethodHead, p.Head}, {http.MethodOptions, p.Options},
	} {
		if m.op != nil {
			out = append(out, m)
		}
	}
	return out
}

type methodOp struct {
	method string
	op     *oaOperation
}

type oaOperation struct {
	Tags        []string               `yaml:"tags"`
	OperationID string                 `yaml:"operationId"`
	Summary     string                 `yaml:"summary"`
	Description string                 `yaml:"description"`
	Deprecated  bool                   `yaml:"deprecated"`
	Parameters  []*oaParam             `yaml:"parameters"`
	RequestBody *oaRequestBody         `yaml:"requestBody"`
	Responses   ordered[*oaResponse]   `yaml:"responses"`
	Security    *[]map[string][]string `yaml:"security"`
}

type oaParam struct {
	Ref         string    `yaml:"$ref"`
	Name        string    `yaml:"name"`
	In          string    `yaml:"in"`
	Required    bool      `yaml:"required"`
	Deprecated  bool      `yaml:"deprecated"`
	Description string    `yaml:"description"`
	Schema      *oaSchema `yaml:"schema"`
}

type oaRequestBody struct {
	Required    bool             `yaml:"required"`
	Description string           `yaml:"description"`
	Content     ordered[oaMedia] `yaml:"content"`
}

type oaResponse struct {
	Ref         string            `yaml:"$ref"`
	Description string            `yaml:"description"`
	Headers     ordered[oaHeader] `yaml:"headers"`
	Content     ordered[oaMedia]  `yaml:"content"`
}

type oaHeader struct {
	Description string    `yaml:"description"`
	Schema      *oaSchema `yaml:"schema"`
}

type oaMedia struct {
	Schema  *oaSchema `yaml:"schema"`
	Example yaml.Node `yaml:"example"` // a node, to keep the key order
}

type oaSchema struct {
	Ref                  string             `yaml:"$ref"`
	Type                 string             `yaml:"type"`
	Format               string             `yaml:"format"`
	Description          string             `yaml:"description"`
	Enum                 []any              `yaml:"enum"`
	Default              any                `yaml:"default"`
	Example              yaml.Node          `yaml:"example"`
	Pattern              string             `yaml:"pattern"`
	Minimum              *float64           `yaml:"minimum"`
	Maximum              *float64           `yaml:"maximum"`
	MinLength            *int               `yaml:"minLength"`
	MaxLength            *int               `yaml:"maxLength"`
	Required             []string           `yaml:"required"`
	Properties           ordered[*oaSchema] `yaml:"properties"`
	AdditionalProperties *oaAdditional      `yaml:"additionalProperties"`
	Items                *oaSchema          `yaml:"items"`
	AllOf                []*oaSchema        `yaml:"allOf"`
	ReadOnly             bool               `yaml:"readOnly"`
	WriteOnly            bool               `yaml:"writeOnly"`
	Nullable             bool               `yaml:"nullable"`
	Deprecated           bool               `yaml:"deprecated"`
}

// oaAdditional is additionalProperties: a boolean or a schema.
type oaAdditional struct {
	Any    bool
	Schema *oaSchema
}

func (a *oaAdditional) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&a.Any)
	}
	a.Schema = new(oaSchema)
	return n.Decode(a.Schema)
}

// ordered is a YAML mapping that keeps the document's key order.
type ordered[T any] []entry[T]

type entry[T any] struct {
	Key   string
	Value T
}

func (o *ordered[T]) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: want a mapping", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		var v T
		if err := n.Content[i+1].Decode(&v); err != nil {
			return err
		}
		*o = append(*o, entry[T]{Key: n.Content[i].Value, Value: v})
	}
	return nil
}

func (o ordered[T]) get(key string) (T, bool) {
	for _, e := range o {
		if e.Key == key {
			return e.Value, true
		}
	}
	var zero T
	return zero, false
}

// The page.

type docsPage struct {
	Title, Version, Server string
	Description            template.HTML
	Auth                   template.HTML
	Groups                 []opGroup
	Schemas                []schemaView
}

type opGroup struct {
	Tag, Anchor string
	Description template.HTML
	Ops         []opView
}

type opView struct {
	Anchor, Method, Path, Summary string
	Description                   template.HTML
	Deprecated, NoAuth            bool
	Params                        []paramView
	Body                          *bodyView
	Responses                     []responseView
}

type paramView struct {
	Name, In             string
	Type                 template.HTML
	Required, Deprecated bool
	Description, Details template.HTML
}

type bodyView struct {
	MediaType string
	Required  bool
	Schema    schemaView
}

type responseView struct {
	Status, MediaType string
	Description       template.HTML
	Type              template.HTML
	Headers           []paramView
	Schema            *schemaView // fields of a successful JSON answer
}

type schemaView struct {
	Name, Anchor string
	Type         template.HTML
	Description  template.HTML
	Fields       []fieldView
	Example      string
}

type fieldView struct {
	Name                 string
	Depth                int
	Type                 template.HTML
	Required             bool
	Flags                []string
	Description, Details template.HTML
}

// renderDocsPage parses an OpenAPI document and renders its HTML page.
func renderDocsPage(src []byte) ([]byte, error) {
	var doc oaDoc
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse the OpenAPI document: %w", err)
	}
	r := &docsRenderer{doc: &doc}
	page, err := r.page()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("render the API docs page: %w", err)
	}
	return buf.Bytes(), nil
}

type docsRenderer struct {
	doc *oaDoc
}

func (r *docsRenderer) page() (docsPage, error) {
	d := r.doc
	p := docsPage{Title: d.Info.Title, Version: d.Info.Version, Description: markdown(d.Info.Description)}
	if len(d.Servers) > 0 {
		p.Server = d.Servers[0].URL
	}
	p.Auth = r.authNote()

	groups := map[string]*opGroup{}
	var order []string
	group := func(tag string) *opGroup {
		if g, ok := groups[tag]; ok {
			return g
		}
		g := &opGroup{Tag: tag, Anchor: "tag-" + anchorSafe(tag)}
		groups[tag] = g
		order = append(order, tag)
		return g
	}
	for _, t := range d.Tags {
		group(t.Name).Description = markdown(t.Description)
	}
	for _, pe := range d.Paths {
		for _, mo := range pe.Value.operations() {
			op, err := r.operation(pe.Key, pe.Value, mo)
			if err != nil {
				return docsPage{}, err
			}
			tag := "other"
			if len(mo.op.Tags) > 0 {
				tag = mo.op.Tags[0]
			}
			g := group(tag)
			g.Ops = append(g.Ops, op)
		}
	}
	for _, tag := range order {
		if g := groups[tag]; len(g.Ops) > 0 {
			p.Groups = append(p.Groups, *g)
		}
	}
	for _, e := range d.Components.Schemas {
		sv := r.schemaView(e.Value, nil)
		sv.Name, sv.Anchor = e.Key, "schema-"+anchorSafe(e.Key)
		p.Schemas = append(p.Schemas, sv)
	}
	return p, nil
}

func (r *docsRenderer) authNote() template.HTML {
	var b strings.Builder
	for _, req := range r.doc.Security {
		for name := range req {
			s, ok := r.doc.Components.SecuritySchemes.get(name)
			if !ok {
				continue
			}
			kind := s.Type
			if s.Type == "http" {
				kind = "HTTP " + s.Scheme
				if s.BearerFormat != "" {
					kind += " (" + s.BearerFormat + ")"
				}
			}
			fmt.Fprintf(&b, "<p>Every operation needs <strong>%s</strong> authentication unless marked <em>no authentication</em>.</p>",
				template.HTMLEscapeString(kind))
			b.WriteString(string(markdown(s.Description)))
		}
	}
	return template.HTML(b.String()) //nolint:gosec // built from escaped text
}

func (r *docsRenderer) operation(path string, item oaPathItem, mo methodOp) (opView, error) {
	op := mo.op
	v := opView{
		Method: mo.method, Path: r.serverURL() + path, Summary: op.Summary,
		Description: markdown(op.Description), Deprecated: op.Deprecated,
		NoAuth: (op.Security != nil && len(*op.Security) == 0) || (op.Security == nil && len(r.doc.Security) == 0),
	}
	v.Anchor = "op-" + anchorSafe(op.OperationID)
	if op.OperationID == "" {
		v.Anchor = "op-" + anchorSafe(mo.method+path)
	}
	params, err := r.params(item.Parameters, op.Parameters)
	if err != nil {
		return opView{}, fmt.Errorf("%s %s: %w", mo.method, path, err)
	}
	v.Params = params
	if rb := op.RequestBody; rb != nil && len(rb.Content) > 0 {
		media := rb.Content[0]
		b := &bodyView{MediaType: media.Key, Required: rb.Required, Schema: r.schemaView(media.Value.Schema, &media.Value.Example)}
		if rb.Description != "" {
			b.Schema.Description = markdown(rb.Description)
		}
		v.Body = b
	}
	for _, e := range op.Responses {
		resp, err := r.response(e.Value)
		if err != nil {
			return opView{}, fmt.Errorf("%s %s: response %s: %w", mo.method, path, e.Key, err)
		}
		rv := responseView{Status: e.Key, Description: markdown(resp.Description)}
		for _, h := range resp.Headers {
			rv.Headers = append(rv.Headers, paramView{Name: h.Key, In: "header", Type: r.typeHTML(h.Value.Schema), Description: markdown(h.Value.Description)})
		}
		if len(resp.Content) > 0 {
			media := resp.Content[0]
			rv.MediaType = media.Key
			rv.Type = r.typeHTML(media.Value.Schema)
			if strings.HasPrefix(e.Key, "2") && strings.Contains(media.Key, "json") {
				sv := r.schemaView(media.Value.Schema, &media.Value.Example)
				if len(sv.Fields) > 0 {
					rv.Schema = &sv
				}
			}
		}
		v.Responses = append(v.Responses, rv)
	}
	return v, nil
}

func (r *docsRenderer) serverURL() string {
	if len(r.doc.Servers) == 0 {
		return ""
	}
	return strings.TrimSuffix(r.doc.Servers[0].URL, "/")
}

// params merges path-level and operation-level parameters; an operation's
// parameter replaces a path's of the same name and location.
func (r *docsRenderer) params(lists ...[]*oaParam) ([]paramView, error) {
	var out []paramView
	index := map[string]int{}
	for _, list := range lists {
		for _, p := range list {
			p, err := r.param(p)
			if err != nil {
				return nil, err
			}
			v := paramView{
				Name: p.Name, In: p.In, Type: r.typeHTML(p.Schema), Required: p.Required, Deprecated: p.Deprecated,
				Description: markdown(p.Description), Details: r.details(p.Schema),
			}
			key := p.In + " " + p.Name
			if i, ok := index[key]; ok {
				out[i] = v
				continue
			}
			index[key] = len(out)
			out = append(out, v)
		}
	}
	return out, nil
}

func (r *docsRenderer) param(p *oaParam) (*oaParam, error) {
	if p.Ref == "" {
		return p, nil
	}
	name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
	target := r.doc.Components.Parameters[name]
	if !ok || target == nil {
		return nil, fmt.Errorf("unresolved parameter reference %q", p.Ref)
	}
	return target, nil
}

func (r *docsRenderer) response(resp *oaResponse) (*oaResponse, error) {
	if resp.Ref == "" {
		return resp, nil
	}
	name, ok := strings.CutPrefix(resp.Ref, "#/components/responses/")
	target := r.doc.Components.Responses[name]
	if !ok || target == nil {
		return nil, fmt.Errorf("unresolved response reference %q", resp.Ref)
	}
	return target, nil
}

// refName returns the component name a schema refers to.
func refName(s *oaSchema) string {
	name, _ := strings.CutPrefix(s.Ref, "#/components/schemas/")
	return name
}

func (r *docsRenderer) component(name string) *oaSchema {
	s, _ := r.doc.Components.Schemas.get(name)
	return s
}

// alias returns the schema a single-element allOf wrapper stands for (the
// way a property adds a description or readOnly to a $ref), or s.
func alias(s *oaSchema) *oaSchema {
	if s != nil && len(s.AllOf) == 1 && len(s.Properties) == 0 && s.Type == "" {
		return s.AllOf[0]
	}
	return s
}

// resolve follows references; it returns nil for an unknown one.
func (r *docsRenderer) resolve(s *oaSchema) *oaSchema {
	for range 16 {
		s = alias(s)
		if s == nil || s.Ref == "" {
			return s
		}
		s = r.component(refName(s))
	}
	return nil
}

// isObject reports whether a resolved schema has fields to list.
func isObject(s *oaSchema) bool {
	return s != nil && (len(s.Properties) > 0 || len(s.AllOf) > 1)
}

// flatten returns the properties of a schema, allOf parts merged in
// order, and its required names.
func (r *docsRenderer) flatten(s *oaSchema, depth int) (ordered[*oaSchema], map[string]bool) {
	s = r.resolve(s)
	props, required := ordered[*oaSchema]{}, map[string]bool{}
	if s == nil || depth > 8 {
		return props, required
	}
	for _, part := range s.AllOf {
		p, req := r.flatten(part, depth+1)
		for _, e := range p {
			if _, ok := props.get(e.Key); !ok {
				props = append(props, e)
			}
		}
		for k := range req {
			required[k] = true
		}
	}
	for _, e := range s.Properties {
		if _, ok := props.get(e.Key); !ok {
			props = append(props, e)
		}
	}
	for _, k := range s.Required {
		required[k] = true
	}
	return props, required
}

// typeHTML describes a schema's type in a few words, with links to the
// named schemas it uses.
func (r *docsRenderer) typeHTML(s *oaSchema) template.HTML {
	return template.HTML(r.typeText(s, 0)) //nolint:gosec // built from escaped text
}

func (r *docsRenderer) typeText(s *oaSchema, depth int) string {
	s = alias(s)
	if s == nil || depth > 8 {
		return "any"
	}
	if s.Ref != "" {
		name := refName(s)
		link := fmt.Sprintf(`<a href="#schema-%s">%s</a>`, anchorSafe(name), template.HTMLEscapeString(name))
		target := r.component(name)
		if target == nil || isObject(target) || target.Type == "object" {
			return link
		}
		return r.typeText(target, depth+1) + " (" + link + ")"
	}
	esc := template.HTMLEscapeString
	switch {
	case len(s.AllOf) > 1:
		return "object"
	case s.Type == "array":
		return "array of " + r.typeText(s.Items, depth+1)
	case s.Type == "object" && len(s.Properties) == 0 && s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil:
		return "map of string to " + r.typeText(s.AdditionalProperties.Schema, depth+1)
	case s.Type == "object" && len(s.Properties) == 0:
		return "object (any keys)"
	case s.Type == "":
		if len(s.Properties) > 0 {
			return "object"
		}
		if s.Nullable {
			return "any JSON value or null"
		}
		return "any JSON value"
	case s.Format != "":
		return esc(s.Type) + " (" + esc(s.Format) + ")"
	default:
		return esc(s.Type)
	}
}

// details lists a schema's constraints: enum, default, range, pattern.
func (r *docsRenderer) details(s *oaSchema) template.HTML {
	s = alias(s)
	if s == nil {
		return ""
	}
	if s.Ref != "" {
		// A named simple type carries its own constraints.
		if t := r.component(refName(s)); t != nil && !isObject(t) && t.Type != "object" {
			return r.details(t)
		}
		return ""
	}
	var parts []string
	code := func(v any) string {
		text, ok := v.(string)
		if !ok {
			text = jsonText(v)
		}
		return "<code>" + template.HTMLEscapeString(text) + "</code>"
	}
	if len(s.Enum) > 0 {
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = code(v)
		}
		parts = append(parts, "One of "+strings.Join(vals, ", ")+".")
	}
	if s.Default != nil {
		parts = append(parts, "Default "+code(s.Default)+".")
	}
	switch {
	case s.Minimum != nil && s.Maximum != nil:
		parts = append(parts, "From "+num(*s.Minimum)+" to "+num(*s.Maximum)+".")
	case s.Minimum != nil:
		parts = append(parts, "At least "+num(*s.Minimum)+".")
	case s.Maximum != nil:
		parts = append(parts, "At most "+num(*s.Maximum)+".")
	}
	switch {
	case s.MinLength != nil && s.MaxLength != nil:
		parts = append(parts, fmt.Sprintf("%d to %d characters.", *s.MinLength, *s.MaxLength))
	case s.MaxLength != nil:
		parts = append(parts, fmt.Sprintf("At most %d characters.", *s.MaxLength))
	}
	if s.Pattern != "" {
		parts = append(parts, "Pattern "+code(s.Pattern)+".")
	}
	return template.HTML(strings.Join(parts, " ")) //nolint:gosec // built from escaped text
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// schemaView describes a body: its type, description, fields and example.
func (r *docsRenderer) schemaView(s *oaSchema, example *yaml.Node) schemaView {
	v := schemaView{Type: r.typeHTML(s)}
	res := r.resolve(s)
	if res != nil {
		v.Description = markdown(res.Description)
		if example == nil || example.Kind == 0 {
			example = &res.Example
		}
	}
	if s != nil && alias(s) != s && s.Description != "" {
		v.Description = markdown(s.Description)
	}
	v.Fields = r.fields(s, "", 0, nil)
	if example != nil && example.Kind != 0 {
		var b strings.Builder
		writeJSON(&b, example, "")
		v.Example = b.String()
	}
	return v
}

// fields lists the properties of an object schema, expanding objects
// written inline (not those named in components, which are linked).
func (r *docsRenderer) fields(s *oaSchema, prefix string, depth int, rows []fieldView) []fieldView {
	props, required := r.flatten(s, 0)
	if depth > 6 {
		return rows
	}
	for _, e := range props {
		p := e.Value
		target := r.resolve(p)
		row := fieldView{
			Name: prefix + e.Key, Depth: depth, Type: r.typeHTML(p), Required: required[e.Key],
			Details: r.details(p),
		}
		desc := ""
		for _, c := range []*oaSchema{p, alias(p), target} {
			if c != nil && c.Description != "" {
				desc = c.Description
				break
			}
		}
		row.Description = markdown(desc)
		flag := func(set bool, name string) {
			if set && !slices.Contains(row.Flags, name) {
				row.Flags = append(row.Flags, name)
			}
		}
		for _, c := range []*oaSchema{p, alias(p), target} {
			if c == nil {
				continue
			}
			flag(c.ReadOnly, "read-only")
			flag(c.WriteOnly, "write-only")
			flag(c.Deprecated, "deprecated")
			flag(c.Nullable, "nullable")
		}
		rows = append(rows, row)
		inline := alias(p)
		switch {
		case inline != nil && inline.Ref == "" && isObject(inline):
			rows = r.fields(inline, prefix+e.Key+".", depth+1, rows)
		case inline != nil && inline.Ref == "" && inline.Type == "array" && inline.Items != nil && inline.Items.Ref == "" && isObject(inline.Items):
			rows = r.fields(inline.Items, prefix+e.Key+"[].", depth+1, rows)
		}
	}
	return rows
}

// markdown renders the little Markdown the document uses: paragraphs
// split by blank lines and `code` spans. Everything else is escaped text.
func markdown(s string) template.HTML {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var b strings.Builder
	for para := range strings.SplitSeq(s, "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		for i, part := range strings.Split(para, "`") {
			text := template.HTMLEscapeString(part)
			if i%2 == 1 {
				text = "<code>" + text + "</code>"
			}
			b.WriteString(text)
		}
		b.WriteString("</p>")
	}
	return template.HTML(b.String()) //nolint:gosec // built from escaped text
}

// anchorSafe makes a string usable in an id attribute and URL fragment.
func anchorSafe(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
			return c
		default:
			return '-'
		}
	}, s)
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// writeJSON writes a YAML value as indented JSON, keys in document order.
func writeJSON(b *strings.Builder, n *yaml.Node, indent string) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			writeJSON(b, n.Content[0], indent)
		}
	case yaml.AliasNode:
		writeJSON(b, n.Alias, indent)
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i := 0; i+1 < len(n.Content); i += 2 {
			b.WriteString(indent + "  " + jsonText(n.Content[i].Value) + ": ")
			writeJSON(b, n.Content[i+1], indent+"  ")
			if i+2 < len(n.Content) {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "}")
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, c := range n.Content {
			b.WriteString(indent + "  ")
			writeJSON(b, c, indent+"  ")
			if i+1 < len(n.Content) {
				b.WriteString(",")
			}
			b.WriteString("\n")
		}
		b.WriteString(indent + "]")
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			v = n.Value
		}
		b.WriteString(jsonText(v))
	}
}

// indent is the left padding of a nested field's name, in pixels.
func indent(depth int) int { return 8 + 18*depth }

var docsTemplate = template.Must(template.New("docs").Funcs(template.FuncMap{"indent": indent}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} — API DOC</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2330;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px 32px 64px;background:#fff}
h1{margin:0 0 4px}h2{margin-top:40px;border-bottom:2px solid #dfe3ea;padding-bottom:4px}
h3{margin:0;font-size:17px}h4{margin:16px 0 6px;font-size:14px;text-transform:uppercase;letter-spacing:.04em;color:#56607a}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
code{background:#eef1f5;padding:1px 4px;border-radius:3px}
pre{background:#f3f5f8;border:1px solid #e2e6ec;padding:10px;overflow:auto}
a{color:#1f5fbf;text-decoration:none}a:hover{text-decoration:underline}
.sub{color:#56607a}
nav ul{list-style:none;padding-left:16px;margin:4px 0}nav>ul{padding-left:0}
.op{border:1px solid #dfe3ea;border-radius:6px;margin:18px 0;padding:14px 16px}
.op.deprecated{opacity:.8;border-style:dashed}
.sig{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.m{display:inline-block;min-width:62px;text-align:center;font-weight:700;font-size:12px;color:#fff;border-radius:3px;padding:2px 6px}
.GET{background:#2f7d32}.POST{background:#1f5fbf}.PUT{background:#b26a00}.PATCH{background:#7b4bb7}.DELETE{background:#c0392b}.HEAD,.OPTIONS{background:#56607a}
.path{font-family:ui-monospace,Menlo,Consolas,monospace;font-weight:600}
.tag{font-size:11px;border-radius:3px;padding:1px 5px;background:#eef1f5;color:#56607a;white-space:nowrap}
.tag.warn{background:#fdecea;color:#a12a1c}.tag.ok{background:#e7f4e8;color:#2f6b32}
table{border-collapse:collapse;width:100%;margin:4px 0 8px;font-size:14px}
th,td{border-bottom:1px solid #e7eaf0;text-align:left;vertical-align:top;padding:5px 8px}
th{background:#f3f5f8;font-weight:600}
td p{margin:0 0 4px}td p:last-child{margin:0}
.fname{font-family:ui-monospace,Menlo,Consolas,monospace;white-space:nowrap}
.req{color:#c0392b;font-size:12px}.det{color:#56607a;font-size:13px}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<div class="sub">API DOC · version {{.Version}} · base URL <code>{{.Server}}</code> · <a href="openapi.yaml">OpenAPI document (YAML)</a></div>
{{.Description}}
<h2 id="auth">Authentication</h2>
{{.Auth}}
<h2 id="contents">Contents</h2>
<nav><ul>
<li><a href="#auth">Authentication</a></li>
{{range .Groups}}<li><a href="#{{.Anchor}}">{{.Tag}}</a><ul>
{{range .Ops}}<li><a href="#{{.Anchor}}"><span class="m {{.Method}}">{{.Method}}</span> <span class="path">{{.Path}}</span></a> — {{.Summary}}{{if .Deprecated}} <span class="tag warn">deprecated</span>{{end}}</li>
{{end}}</ul></li>
{{end}}<li><a href="#schemas">Schemas</a><ul>
{{range .Schemas}}<li><a href="#{{.Anchor}}">{{.Name}}</a></li>
{{end}}</ul></li>
</ul></nav>
{{range .Groups}}
<h2 id="{{.Anchor}}">{{.Tag}}</h2>
{{.Description}}
{{range .Ops}}
<section class="op{{if .Deprecated}} deprecated{{end}}" id="{{.Anchor}}">
<div class="sig"><span class="m {{.Method}}">{{.Method}}</span><span class="path">{{.Path}}</span>
<h3>{{.Summary}}</h3>
{{if .Deprecated}}<span class="tag warn">deprecated</span>{{end}}
{{if .NoAuth}}<span class="tag ok">no authentication</span>{{end}}</div>
{{.Description}}
{{if .Params}}<h4>Parameters</h4>
<table><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>
{{range .Params}}<tr><td class="fname">{{.Name}}{{if .Required}} <span class="req">required</span>{{end}}{{if .Deprecated}} <span class="tag warn">deprecated</span>{{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}{{if .Details}}<div class="det">{{.Details}}</div>{{end}}</td></tr>
{{end}}</table>{{end}}
{{with .Body}}<h4>Request body</h4>
<p><code>{{.MediaType}}</code> {{if .Required}}<span class="req">required</span>{{end}} · {{.Schema.Type}}</p>
{{template "schema" .Schema}}{{end}}
<h4>Responses</h4>
<table><tr><th>Status</th><th>Description</th><th>Body</th></tr>
{{range .Responses}}<tr><td><strong>{{.Status}}</strong></td><td>{{.Description}}{{range .Headers}}<div class="det">Header <code>{{.Name}}</code>: {{.Description}}</div>{{end}}</td><td>{{if .MediaType}}<code>{{.MediaType}}</code> {{.Type}}{{else}}—{{end}}</td></tr>
{{end}}</table>
{{range .Responses}}{{if .Schema}}<p class="det">Fields of the {{.Status}} answer ({{.Type}}):</p>{{template "schema" .Schema}}{{end}}{{end}}
</section>
{{end}}{{end}}
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}<section class="op" id="{{.Anchor}}">
<div class="sig"><h3>{{.Name}}</h3><span class="sub">{{.Type}}</span></div>
{{.Description}}
{{template "schema" .}}
</section>
{{end}}
</main>
</body>
</html>
{{define "schema"}}{{if .Fields}}<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .Fields}}<tr><td class="fname" style="padding-left:{{.Depth | indent}}px">{{.Name}}{{if .Required}} <span class="req">required</span>{{end}}{{range .Flags}} <span class="tag">{{.}}</span>{{end}}</td><td>{{.Type}}</td><td>{{.Description}}{{if .Details}}<div class="det">{{.Details}}</div>{{end}}</td></tr>
{{end}}</table>{{end}}{{if .Example}}<p class="det">Example:</p><pre>{{.Example}}</pre>{{end}}{{end}}
`))
