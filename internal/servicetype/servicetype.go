package servicetype

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed descriptors/*.yaml
var descriptors embed.FS

// Parameter types.
const (
	TypeString   = "string"
	TypeInt      = "int"
	TypeBool     = "bool"
	TypeMemory   = "memory" // bytes
	TypePort     = "port"
	TypePath     = "path"      // absolute, or relative to the host agent's data directory
	TypePathList = "path_list" // comma-separated paths
	TypeEnum     = "enum"
	// TypeSnippet is an advanced configuration snippet ("safety valve"):
	// properties added to the parameter's File over what it has. For a
	// Hadoop XML file it is Cloudera Manager's form, <property> elements;
	// for the others, and also accepted for XML files, name=value lines.
	TypeSnippet = "snippet"
)

// AutoRestartParam is the parameter every role type has that makes its host
// agent restart the process when it exits unexpectedly.
const AutoRestartParam = "process_auto_restart"

// Catalog holds the known service types.
type Catalog struct {
	types map[string]*ServiceType
	names []string
}

// ServiceType is one kind of service, such as HDFS.
type ServiceType struct {
	Name        string     `yaml:"name"`
	DisplayName string     `yaml:"displayName"`
	Description string     `yaml:"description"`
	Params      []Param    `yaml:"params"`
	Roles       []RoleType `yaml:"roles"`
	// Checks are the service-level health checks, by name.
	Checks []string `yaml:"checks"`

	params map[string]*Param
	roles  map[string]*RoleType
	// tmpls caches the parsed templates of the descriptor, by source.
	tmpls sync.Map // string -> *template.Template
}

// RoleType is one kind of role of a service type, such as NAMENODE.
type RoleType struct {
	Name        string `yaml:"name"`
	DisplayName string `yaml:"displayName"`
	// Min and Max bound the number of roles of this type in one service;
	// Max 0 is unbounded.
	Min int `yaml:"min"`
	Max int `yaml:"max"`
	// StartOrder orders starts (lower first); stops go in reverse.
	StartOrder int     `yaml:"startOrder"`
	Params     []Param `yaml:"params"`

	Runtime   string   `yaml:"runtime"`
	MainClass string   `yaml:"mainClass"`
	Args      []string `yaml:"args"`
	// HeapParam names the memory parameter that sizes the process's heap.
	HeapParam string            `yaml:"heapParam"`
	Env       map[string]string `yaml:"env"`
	// DirParams name path and path-list parameters whose directories are
	// created before a start.
	DirParams   []string       `yaml:"dirParams"`
	Init        *Init          `yaml:"init"`
	Refresh     *Refresh       `yaml:"refresh"`
	Files       []FileTemplate `yaml:"files"`
	Probes      []Probe        `yaml:"probes"`
	StopTimeout time.Duration  `yaml:"stopTimeout"`
	// StartTimeout bounds how long a start command waits for the role to
	// run and pass its probes.
	StartTimeout time.Duration `yaml:"startTimeout"`
	// Checks are role-level health checks beyond the process and probe
	// checks every role has, by name.
	Checks []string `yaml:"checks"`

	params map[string]*Param
}

// Init is a one-time step before a role's first start.
type Init struct {
	Creates   string   `yaml:"creates"`
	MainClass string   `yaml:"mainClass"`
	Args      []string `yaml:"args"`
}

// Refresh applies changes of Files to a running role with a command of
// its runtime, instead of a restart.
type Refresh struct {
	Files     []string `yaml:"files"`
	MainClass string   `yaml:"mainClass"`
	Args      []string `yaml:"args"`
}

// FileTemplate is one configuration file of a role.
type FileTemplate struct {
	Path string `yaml:"path"`
	// Format is hadoop-xml, properties, env or text. Parameters whose File
	// is Path are added as properties (hadoop-xml, properties) by their
	// related name.
	Format     string            `yaml:"format"`
	Properties map[string]string `yaml:"properties"`
	Content    string            `yaml:"content"` // text files
}

// Probe is an HTTP probe of a running role (URL and Fields are templates
// and paths as in agentapi.Probe).
type Probe struct {
	Name   string            `yaml:"name"`
	URL    string            `yaml:"url"`
	Fields map[string]string `yaml:"fields"`
}

// Param is one configuration parameter.
type Param struct {
	Name        string   `yaml:"name"`
	RelatedName string   `yaml:"relatedName"`
	DisplayName string   `yaml:"displayName"`
	Description string   `yaml:"description"`
	Type        string   `yaml:"type"`
	Default     string   `yaml:"default"`
	Min         *int64   `yaml:"min"`
	Max         *int64   `yaml:"max"`
	Values      []string `yaml:"values"`
	Required    bool     `yaml:"required"`
	Sensitive   bool     `yaml:"sensitive"`
	// File is the configuration file the related property is written to.
	File string `yaml:"file"`
}

// Load reads the embedded descriptors.
func Load() (*Catalog, error) {
	return load(descriptors, "descriptors")
}

func load(fsys fs.FS, dir string) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read service descriptors: %w", err)
	}
	c := &Catalog{types: map[string]*ServiceType{}}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read service descriptor %s: %w", e.Name(), err)
		}
		var t ServiceType
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("parse service descriptor %s: %w", e.Name(), err)
		}
		if err := t.prepare(); err != nil {
			return nil, fmt.Errorf("service descriptor %s: %w", e.Name(), err)
		}
		if _, dup := c.types[t.Name]; dup {
			return nil, fmt.Errorf("service descriptor %s: service type %s is defined twice", e.Name(), t.Name)
		}
		c.types[t.Name] = &t
		c.names = append(c.names, t.Name)
	}
	sort.Strings(c.names)
	return c, nil
}

func (t *ServiceType) prepare() error {
	if t.Name == "" || len(t.Roles) == 0 {
		return fmt.Errorf("a service type needs a name and role types")
	}
	t.params = map[string]*Param{}
	for i := range t.Params {
		if err := addParam(t.params, &t.Params[i]); err != nil {
			return err
		}
	}
	t.roles = map[string]*RoleType{}
	for i := range t.Roles {
		rt := &t.Roles[i]
		rt.Params = append(rt.Params, Param{
			Name: AutoRestartParam, Type: TypeBool, Default: "false", DisplayName: "Automatically Restart Process",
			Description: "When set, this role's process is automatically (and transparently) restarted by its host agent in the event of an unexpected failure.",
		})
		rt.params = map[string]*Param{}
		for j := range rt.Params {
			if _, clash := t.params[rt.Params[j].Name]; clash {
				return fmt.Errorf("role type %s: parameter %s is also a service parameter", rt.Name, rt.Params[j].Name)
			}
			if err := addParam(rt.params, &rt.Params[j]); err != nil {
				return fmt.Errorf("role type %s: %w", rt.Name, err)
			}
		}
		for _, name := range rt.DirParams {
			if p := rt.params[name]; p == nil || (p.Type != TypePath && p.Type != TypePathList) {
				return fmt.Errorf("role type %s: directory parameter %s is not a path parameter of the role", rt.Name, name)
			}
		}
		if rt.HeapParam != "" && rt.params[rt.HeapParam] == nil {
			return fmt.Errorf("role type %s: heap parameter %s is not defined", rt.Name, rt.HeapParam)
		}
		if rt.StopTimeout == 0 {
			rt.StopTimeout = 30 * time.Second
		}
		if rt.StartTimeout == 0 {
			rt.StartTimeout = 2 * time.Minute
		}
		t.roles[rt.Name] = rt
		// Templates must parse now, not at the first start.
		for _, s := range rt.templates() {
			if _, err := parseTemplate(s); err != nil {
				return fmt.Errorf("role type %s: %w", rt.Name, err)
			}
		}
	}
	return nil
}

func addParam(m map[string]*Param, p *Param) error {
	if p.Name == "" {
		return fmt.Errorf("a parameter has no name")
	}
	if _, dup := m[p.Name]; dup {
		return fmt.Errorf("parameter %s is defined twice", p.Name)
	}
	if p.DisplayName == "" {
		p.DisplayName = p.Name
	}
	if p.Default != "" {
		v, err := p.Normalize(p.Default)
		if err != nil {
			return fmt.Errorf("parameter %s: bad default: %w", p.Name, err)
		}
		p.Default = v
	}
	m[p.Name] = p
	return nil
}

func (rt *RoleType) templates() []string {
	out := append([]string{}, rt.Args...)
	for _, v := range rt.Env {
		out = append(out, v)
	}
	if rt.Init != nil {
		out = append(out, rt.Init.Creates)
		out = append(out, rt.Init.Args...)
	}
	if rt.Refresh != nil {
		out = append(out, rt.Refresh.Args...)
	}
	for _, f := range rt.Files {
		out = append(out, f.Content)
		for _, v := range f.Properties {
			out = append(out, v)
		}
	}
	for _, p := range rt.Probes {
		out = append(out, p.URL)
	}
	return out
}

// Names lists the service types, sorted.
func (c *Catalog) Names() []string { return slices.Clone(c.names) }

// Type returns a service type by name.
func (c *Catalog) Type(name string) (*ServiceType, bool) {
	t, ok := c.types[name]
	return t, ok
}

// RoleType returns one of the type's role types.
func (t *ServiceType) RoleType(name string) (*RoleType, bool) {
	rt, ok := t.roles[name]
	return rt, ok
}

// RoleTypeNames lists the type's role types in start order.
func (t *ServiceType) RoleTypeNames() []string {
	rts := make([]*RoleType, len(t.Roles))
	for i := range t.Roles {
		rts[i] = &t.Roles[i]
	}
	sort.SliceStable(rts, func(i, j int) bool { return rts[i].StartOrder < rts[j].StartOrder })
	out := make([]string, len(rts))
	for i, rt := range rts {
		out[i] = rt.Name
	}
	return out
}

// Param returns a service-level parameter.
func (t *ServiceType) Param(name string) (*Param, bool) {
	p, ok := t.params[name]
	return p, ok
}

// Param returns a role-level parameter.
func (rt *RoleType) Param(name string) (*Param, bool) {
	p, ok := rt.params[name]
	return p, ok
}

// Normalize checks a value against the parameter's type and validation and
// returns its canonical text (booleans lower case, numbers in decimal).
func (p *Param) Normalize(v string) (string, error) {
	switch p.Type {
	case TypeString, "":
		return v, nil
	case TypeBool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return "", fmt.Errorf("%q is not a boolean (true or false)", v)
		}
		return strconv.FormatBool(b), nil
	case TypeInt, TypeMemory, TypePort:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			what := "an integer"
			if p.Type == TypeMemory {
				what = "a size in bytes"
			}
			return "", fmt.Errorf("%q is not %s", v, what)
		}
		lo, hi := p.Min, p.Max
		if p.Type == TypePort {
			lo, hi = ptr(1), ptr(65535)
		}
		if lo != nil && n < *lo {
			return "", fmt.Errorf("%d is below the minimum %d", n, *lo)
		}
		if hi != nil && n > *hi {
			return "", fmt.Errorf("%d is above the maximum %d", n, *hi)
		}
		return strconv.FormatInt(n, 10), nil
	case TypeSnippet:
		props, err := ParseSnippet(v)
		if err != nil {
			return "", err
		}
		return FormatSnippet(props, strings.HasSuffix(p.File, ".xml") && strings.HasPrefix(strings.TrimSpace(v), "<")), nil
	case TypePath:
		return v, checkPath(v)
	case TypePathList:
		parts := splitList(v)
		if len(parts) == 0 {
			return "", fmt.Errorf("the list of paths is empty")
		}
		for _, s := range parts {
			if err := checkPath(s); err != nil {
				return "", err
			}
		}
		return strings.Join(parts, ","), nil
	case TypeEnum:
		if !slices.Contains(p.Values, v) {
			return "", fmt.Errorf("%q is not one of %s", v, strings.Join(p.Values, ", "))
		}
		return v, nil
	}
	return "", fmt.Errorf("parameter type %q is unknown", p.Type)
}

func ptr(v int64) *int64 { return &v }

func checkPath(s string) error {
	if s == "" {
		return fmt.Errorf("a path is empty")
	}
	if strings.ContainsAny(s, "\x00\n\r,") {
		return fmt.Errorf("path %q has a control character or a comma", s)
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == ".." {
			return fmt.Errorf("path %q has a '..' segment", s)
		}
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
