package servicetype

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/hadooprt"
)

// Host is what rendering needs to know of a host.
type Host struct {
	ID       string
	Hostname string
	Address  string
	DataDir  string // the agent's data directory; relative paths resolve against it
	// Machine names the machine the host runs on; hosts over loopback
	// addresses of one machine share it (see Port).
	Machine string
}

// RoleInstance is one role of a service as rendering sees it.
type RoleInstance struct {
	Name   string
	Type   string
	Host   Host
	Config map[string]string // the role's set (non-default) values
	// CommissionState is COMMISSIONED, DECOMMISSIONING or DECOMMISSIONED.
	CommissionState string
}

// RenderInput is everything a role's desired state depends on.
type RenderInput struct {
	Cluster       string
	ClusterID     string
	Service       string
	ServiceConfig map[string]string // the service's set values
	Role          RoleInstance
	// Peers are all roles of the service, the rendered one included.
	Peers []RoleInstance
}

// Effective returns the value of every parameter of the service and of role
// type rt (service parameters and the role's own), set values over
// defaults. Paths are made absolute against dataDir when it is not empty.
func (t *ServiceType) Effective(rt *RoleType, serviceConfig, roleConfig map[string]string, dataDir string) map[string]string {
	out := map[string]string{}
	put := func(p *Param, set map[string]string) {
		v, ok := set[p.Name]
		if !ok {
			v = p.Default
		}
		if dataDir != "" && (p.Type == TypePath || p.Type == TypePathList) && v != "" {
			v = absPaths(v, dataDir)
		}
		out[p.Name] = v
	}
	for i := range t.Params {
		put(&t.Params[i], serviceConfig)
	}
	if rt != nil {
		for i := range rt.Params {
			put(&rt.Params[i], roleConfig)
		}
	}
	return out
}

func absPaths(v, dataDir string) string {
	parts := splitList(v)
	for i, p := range parts {
		if !filepath.IsAbs(p) {
			parts[i] = filepath.Join(dataDir, p)
		}
	}
	return strings.Join(parts, ",")
}

// tmplData is what descriptor templates see.
type tmplData struct {
	Cluster   string
	ClusterID string
	Service   string
	Self      Peer
	Cfg       map[string]string
	byType    map[string][]Peer
}

// Peer is a role as templates see it.
type Peer struct {
	Name string
	Type string
	Host Host
	Cfg  map[string]string
	// Decommission says that the role is being or has been decommissioned.
	Decommission bool
}

// First returns the first role of a type, for templates; it fails when the
// service has none.
func (d tmplData) First(roleType string) (Peer, error) {
	ps := d.byType[roleType]
	if len(ps) == 0 {
		return Peer{}, fmt.Errorf("service %s has no %s role", d.Service, roleType)
	}
	return ps[0], nil
}

// Roles returns the roles of a type.
func (d tmplData) Roles(roleType string) []Peer { return d.byType[roleType] }

// Dirs splits a path-list parameter of the rendered role.
func (d tmplData) Dirs(param string) []string { return splitList(d.Cfg[param]) }

// FileURIs turns a path-list parameter into a comma-separated list of file:
// URIs, as Hadoop wants its storage directories.
func (d tmplData) FileURIs(param string) string {
	parts := splitList(d.Cfg[param])
	for i, p := range parts {
		parts[i] = "file://" + p
	}
	return strings.Join(parts, ",")
}

// portStride is how far apart Port puts the ports of roles of one type
// sharing a machine.
const portStride = 10

// Port returns a port parameter of the rendered role (see PortOf).
func (d tmplData) Port(param string) (int, error) { return d.PortOf(d.Self, param) }

// PortOf returns a port parameter of role p, moved up by portStride for
// each role of its type (in name order) that runs on another host of the
// same machine. Hosts that share a machine over loopback addresses reach
// each other from 127.0.0.1, and a NameNode keys its DataNodes by source
// address and transfer port: distinct ports keep them distinct. On
// machines of their own, roles keep the set port.
func (d tmplData) PortOf(p Peer, param string) (int, error) {
	n, err := strconv.Atoi(p.Cfg[param])
	if err != nil {
		return 0, fmt.Errorf("parameter %s of %s is not a port: %w", param, p.Name, err)
	}
	if p.Host.Machine == "" {
		return n, nil
	}
	slot := 0
	for _, q := range d.byType[p.Type] {
		if q.Name == p.Name {
			break
		}
		if q.Host.Machine == p.Host.Machine && q.Host.ID != p.Host.ID {
			slot++
		}
	}
	return n + slot*portStride, nil
}

// SourceAddress is the address connections from role p to the rendered
// role come from: 127.0.0.1 when both share a machine and the rendered
// role listens on a loopback address, p's host address otherwise.
func (d tmplData) SourceAddress(p Peer) string {
	if ip := net.ParseIP(d.Self.Host.Address); ip != nil && ip.IsLoopback() &&
		p.Host.Machine != "" && p.Host.Machine == d.Self.Host.Machine {
		return "127.0.0.1"
	}
	return p.Host.Address
}

// ConfFile is the absolute path of a file of the rendered role on its
// host.
func (d tmplData) ConfFile(name string) string {
	return filepath.Join(agentapi.ConfDir(d.Self.Host.DataDir, d.Self.Name), name)
}

// MB returns a memory parameter in mebibytes.
func (d tmplData) MB(param string) (int64, error) {
	n, err := strconv.ParseInt(d.Cfg[param], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parameter %s is not a size: %w", param, err)
	}
	return n >> 20, nil
}

func parseTemplate(s string) (*template.Template, error) {
	return template.New("").Option("missingkey=error").Parse(s)
}

// render executes a template of the descriptor, parsed once.
func (t *ServiceType) render(s string, d tmplData) (string, error) {
	var tm *template.Template
	if v, ok := t.tmpls.Load(s); ok {
		tm = v.(*template.Template)
	} else {
		var err error
		if tm, err = parseTemplate(s); err != nil {
			return "", err
		}
		t.tmpls.Store(s, tm)
	}
	var b bytes.Buffer
	if err := tm.Execute(&b, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// peers computes what every role of the service shares: each peer's
// effective configuration, by role type.
func (t *ServiceType) peers(in RenderInput) tmplData {
	d := tmplData{Cluster: in.Cluster, ClusterID: in.ClusterID, Service: in.Service, byType: map[string][]Peer{}}
	for _, p := range in.Peers {
		d.byType[p.Type] = append(d.byType[p.Type], Peer{Name: p.Name, Type: p.Type, Host: p.Host,
			Cfg:          t.Effective(t.roles[p.Type], in.ServiceConfig, p.Config, p.Host.DataDir),
			Decommission: p.CommissionState == "DECOMMISSIONING" || p.CommissionState == "DECOMMISSIONED"})
	}
	for _, ps := range d.byType {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	}
	return d
}

// Render builds a role's desired state, less what the inventory decides
// (Run, StartSeq).
func (t *ServiceType) Render(in RenderInput) (agentapi.RoleSpec, error) {
	return t.renderRole(t.peers(in), in.ServiceConfig, in.Role)
}

// RenderAll renders every role of in.Peers (in.Role is not used), sharing
// the work they have in common; errs holds the error of each role that
// could not be rendered, by name.
func (t *ServiceType) RenderAll(in RenderInput) (specs map[string]agentapi.RoleSpec, errs map[string]error) {
	d := t.peers(in)
	specs, errs = map[string]agentapi.RoleSpec{}, map[string]error{}
	for _, p := range in.Peers {
		spec, err := t.renderRole(d, in.ServiceConfig, p)
		if err != nil {
			errs[p.Name] = err
			continue
		}
		specs[p.Name] = spec
	}
	return specs, errs
}

func (t *ServiceType) renderRole(d tmplData, serviceConfig map[string]string, role RoleInstance) (agentapi.RoleSpec, error) {
	rt, ok := t.roles[role.Type]
	if !ok {
		return agentapi.RoleSpec{}, fmt.Errorf("service type %s has no role type %s", t.Name, role.Type)
	}
	d.Cfg = nil
	for _, p := range d.byType[role.Type] {
		if p.Name == role.Name {
			d.Cfg = p.Cfg
		}
	}
	if d.Cfg == nil { // not among the peers
		d.Cfg = t.Effective(rt, serviceConfig, role.Config, role.Host.DataDir)
	}
	d.Self = Peer{Name: role.Name, Type: role.Type, Host: role.Host, Cfg: d.Cfg}

	var firstErr error
	r := func(s string) string {
		out, err := t.render(s, d)
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("render %s of %s: %w", rt.Name, role.Name, err)
		}
		return out
	}
	rs := func(ss []string) []string {
		out := make([]string, 0, len(ss))
		for _, s := range ss {
			out = append(out, r(s))
		}
		return out
	}
	spec := agentapi.RoleSpec{
		Name: role.Name, Type: rt.Name, Service: d.Service,
		AutoRestart: d.Cfg[AutoRestartParam] == "true",
		StopTimeout: agentapi.Duration(rt.StopTimeout),
		Launch: agentapi.Launch{
			Runtime: rt.Runtime, MainClass: rt.MainClass, Args: rs(rt.Args),
		},
	}
	for _, name := range rt.DirParams {
		spec.Launch.Dirs = append(spec.Launch.Dirs, d.Dirs(name)...)
	}
	if rt.HeapParam != "" {
		mb, err := d.MB(rt.HeapParam)
		if err != nil {
			return agentapi.RoleSpec{}, err
		}
		spec.Launch.HeapMB = int(mb)
	}
	if len(rt.Env) > 0 {
		spec.Launch.Env = map[string]string{}
		for k, v := range rt.Env {
			spec.Launch.Env[k] = r(v)
		}
	}
	if rt.Init != nil {
		spec.Init = &agentapi.Init{Creates: r(rt.Init.Creates), MainClass: rt.Init.MainClass, Args: rs(rt.Init.Args)}
	}
	for _, f := range rt.Files {
		content, err := t.renderFile(rt, f, d, r)
		if err != nil {
			return agentapi.RoleSpec{}, err
		}
		spec.Files = append(spec.Files, agentapi.File{Path: f.Path, Content: content})
	}
	for _, p := range rt.Probes {
		spec.Probes = append(spec.Probes, agentapi.Probe{Name: p.Name, URL: r(p.URL), Fields: p.Fields})
	}
	if rt.Refresh != nil {
		spec.Refresh = &agentapi.Refresh{Files: rt.Refresh.Files, MainClass: rt.Refresh.MainClass, Args: rs(rt.Refresh.Args)}
	}
	if firstErr != nil {
		return agentapi.RoleSpec{}, firstErr
	}
	spec.ConfigHash = configHash(spec)
	if spec.Refresh != nil {
		spec.Refresh.Hash = refreshHash(spec)
	}
	return spec, nil
}

func (t *ServiceType) renderFile(rt *RoleType, f FileTemplate, d tmplData, r func(string) string) (string, error) {
	props := map[string]string{}
	for k, v := range f.Properties {
		if v = r(v); v != "" {
			props[k] = v
		}
	}
	var snippets []Param
	for _, ps := range [][]Param{t.Params, rt.Params} {
		for _, p := range ps {
			switch {
			case p.File != f.Path:
			case p.Type == TypeSnippet:
				snippets = append(snippets, p)
			case p.RelatedName != "":
				if v := d.Cfg[p.Name]; v != "" {
					props[p.RelatedName] = v
				}
			}
		}
	}
	// Snippets come last: they win over everything else.
	for _, p := range snippets {
		extra, err := ParseSnippet(d.Cfg[p.Name])
		if err != nil {
			return "", fmt.Errorf("parameter %s: %w", p.Name, err)
		}
		for k, v := range extra {
			props[k] = v
		}
	}
	switch f.Format {
	case "hadoop-xml":
		b, err := hadooprt.SiteXML(props)
		if err != nil {
			return "", fmt.Errorf("file %s of role type %s: %w", f.Path, rt.Name, err)
		}
		return string(b), nil
	case "properties":
		return keyValues(props, "%s=%s\n"), nil
	case "env":
		for k, v := range props {
			props[k] = strconv.Quote(v)
		}
		return keyValues(props, "export %s=%s\n"), nil
	case "text":
		return r(f.Content), nil
	}
	return "", fmt.Errorf("file %s of role type %s: format %q is unknown", f.Path, rt.Name, f.Format)
}

func keyValues(props map[string]string, format string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(props)) {
		fmt.Fprintf(&b, format, k, props[k])
	}
	return b.String()
}

// configHash covers what a restart applies: the files (but those a
// refresh applies), the launch and the init step.
func configHash(spec agentapi.RoleSpec) string {
	files := spec.Files
	if spec.Refresh != nil {
		files = slices.DeleteFunc(slices.Clone(files), func(f agentapi.File) bool { return slices.Contains(spec.Refresh.Files, f.Path) })
	}
	return hashOf(struct {
		Files  []agentapi.File
		Launch agentapi.Launch
		Init   *agentapi.Init
	}{files, spec.Launch, spec.Init})
}

// refreshHash covers the files a refresh applies.
func refreshHash(spec agentapi.RoleSpec) string {
	var files []agentapi.File
	for _, f := range spec.Files {
		if slices.Contains(spec.Refresh.Files, f.Path) {
			files = append(files, f)
		}
	}
	return hashOf(files)
}

func hashOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}
