package cm

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/inventory"
	"github.com/herdhq/herd/internal/store"
)

// MaxVersion is the highest API version served; /api/v1 … /api/vMaxVersion
// share the handlers and v19's field sets.
const MaxVersion = 19

// Realm is the Basic realm cm_api insists on.
const Realm = "Cloudera Manager"

// Options configure the API.
type Options struct {
	MaxBodyBytes int64
	Version      string // Herd's version, reported by /cm/version
	PublicURL    func(r *http.Request) string
}

// API serves /api/v{N}.
type API struct {
	inv  *inventory.Service
	auth *auth.Service
	log  *slog.Logger
	json httpjson.Decoder
	opts Options
}

// New returns the CM API.
func New(inv *inventory.Service, a *auth.Service, log *slog.Logger, opts Options) *API {
	return &API{inv: inv, auth: a, log: log, opts: opts, json: httpjson.Decoder{MaxBytes: opts.MaxBodyBytes, AllowUnknown: true}}
}

// errorBody is CM's error shape.
type errorBody struct {
	Message string   `json:"message"`
	Causes  []string `json:"causes,omitempty"`
}

// writeError maps every domain error to CM's wire shape.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind := apperr.KindOf(err)
	if kind == apperr.Internal {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	status := kind.HTTPStatus()
	if kind == apperr.Conflict {
		status = http.StatusBadRequest // CM answers duplicates with 400
	}
	httpjson.Write(w, status, errorBody{Message: apperr.Message(err)})
}

// Register adds the routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	guard := a.auth.Require(auth.Guard{
		Schemes: auth.Basic | auth.Session,
		Realm:   Realm,
		Service: "cm",
		Fail:    a.writeError,
	})
	mux.Handle("GET /api/version", guard(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "v%d", MaxVersion)
	})))
	read := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, guard(a.versioned(h)))
	}
	write := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, guard(a.versioned(a.writer(h))))
	}
	read("GET /api/{v}/tools/echo", a.echo)
	read("GET /api/{v}/tools/echoError", a.echoError)
	read("GET /api/{v}/cm/version", a.cmVersion)

	read("GET /api/{v}/users", a.listUsers)
	read("GET /api/{v}/users/{user}", a.getUser)
	write("POST /api/{v}/users", a.createUsers)
	write("DELETE /api/{v}/users/{user}", a.deleteUser)

	read("GET /api/{v}/hosts", a.listHosts)
	read("GET /api/{v}/hosts/{host}", a.getHost)
	write("POST /api/{v}/hosts", a.createHosts)
	write("DELETE /api/{v}/hosts/{host}", a.deleteHost)

	read("GET /api/{v}/clusters", a.listClusters)
	read("GET /api/{v}/clusters/{cluster}", a.getCluster)
	write("POST /api/{v}/clusters", a.createClusters)
	write("DELETE /api/{v}/clusters/{cluster}", a.deleteCluster)
	read("GET /api/{v}/clusters/{cluster}/hosts", a.listClusterHosts)
	write("POST /api/{v}/clusters/{cluster}/hosts", a.addClusterHosts)
	write("DELETE /api/{v}/clusters/{cluster}/hosts/{host}", a.removeClusterHost)
	write("POST /api/{v}/clusters/{cluster}/commands/{op}", a.clusterCommand)

	read("GET /api/{v}/clusters/{cluster}/services", a.listServices)
	read("GET /api/{v}/clusters/{cluster}/services/{service}", a.getService)
	write("POST /api/{v}/clusters/{cluster}/services", a.createServices)
	write("DELETE /api/{v}/clusters/{cluster}/services/{service}", a.deleteService)
	write("POST /api/{v}/clusters/{cluster}/services/{service}/commands/{op}", a.serviceCommand)
	write("POST /api/{v}/clusters/{cluster}/services/{service}/roleCommands/{op}", a.roleCommands)
	read("GET /api/{v}/clusters/{cluster}/services/{service}/config", a.getServiceConfig)
	write("PUT /api/{v}/clusters/{cluster}/services/{service}/config", a.putServiceConfig)

	read("GET /api/{v}/clusters/{cluster}/services/{service}/roles", a.listRoles)
	read("GET /api/{v}/clusters/{cluster}/services/{service}/roles/{role}", a.getRole)
	write("POST /api/{v}/clusters/{cluster}/services/{service}/roles", a.createRoles)
	write("DELETE /api/{v}/clusters/{cluster}/services/{service}/roles/{role}", a.deleteRole)

	read("GET /api/{v}/clusters/{cluster}/services/{service}/roleConfigGroups", a.listGroups)
	read("GET /api/{v}/clusters/{cluster}/services/{service}/roleConfigGroups/{group}", a.getGroup)
	read("GET /api/{v}/clusters/{cluster}/services/{service}/roleConfigGroups/{group}/config", a.getGroupConfig)
	write("PUT /api/{v}/clusters/{cluster}/services/{service}/roleConfigGroups/{group}/config", a.putGroupConfig)

	read("GET /api/{v}/commands/{id}", a.getCommand)
	write("POST /api/{v}/commands/{id}/abort", a.abortCommand)
}

// versioned refuses versions outside v1 … vMaxVersion.
func (a *API) versioned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := r.PathValue("v")
		n, err := strconv.Atoi(strings.TrimPrefix(v, "v"))
		if !strings.HasPrefix(v, "v") || err != nil || n < 1 || n > MaxVersion {
			a.writeError(w, r, apperr.New(apperr.NotFound, "API version %q is not served; use v1 to v%d", v, MaxVersion))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// writer refuses read-only users.
func (a *API) writer(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if p, _ := auth.PrincipalFrom(r.Context()); !p.CanWrite() {
			a.writeError(w, r, apperr.New(apperr.Forbidden, "user %s is read-only", p.User))
			return
		}
		next(w, r)
	}
}

func (a *API) ok(w http.ResponseWriter, v any) { httpjson.Write(w, http.StatusOK, v) }

// reply returns a function that answers with v, or with err in the CM
// error shape: a.reply(w, r)(wire(...)).
func (a *API) reply(w http.ResponseWriter, r *http.Request) func(v any, err error) {
	return func(v any, err error) {
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		a.ok(w, v)
	}
}

// items maps domain values to a CM list.
func items[S, T any](in []S, wire func(S) T) list[T] {
	out := list[T]{Items: make([]T, 0, len(in))}
	for _, v := range in {
		out.Items = append(out.Items, wire(v))
	}
	return out
}

// tryItems maps domain values to a CM list; the first error ends it.
func tryItems[S, T any](in []S, wire func(S) (T, error)) (list[T], error) {
	out := list[T]{Items: make([]T, 0, len(in))}
	for _, v := range in {
		t, err := wire(v)
		if err != nil {
			return list[T]{}, err
		}
		out.Items = append(out.Items, t)
	}
	return out, nil
}

func (a *API) echo(w http.ResponseWriter, r *http.Request) {
	msg := r.URL.Query().Get("message")
	if !r.URL.Query().Has("message") {
		msg = "Hello, World!"
	}
	a.ok(w, map[string]string{"message": msg})
}

func (a *API) echoError(w http.ResponseWriter, r *http.Request) {
	msg := r.URL.Query().Get("message")
	if msg == "" {
		msg = "Default error message"
	}
	httpjson.Write(w, http.StatusInternalServerError, errorBody{Message: msg})
}

func (a *API) cmVersion(w http.ResponseWriter, _ *http.Request) {
	a.ok(w, map[string]any{"version": "5.16.2", "snapshot": false, "buildUser": "herd", "gitHash": a.opts.Version})
}

// baseURL is where the server is reached, for the *Url fields.
func (a *API) baseURL(r *http.Request) string {
	if a.opts.PublicURL != nil {
		if u := a.opts.PublicURL(r); u != "" {
			return strings.TrimSuffix(u, "/")
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// --- users -----------------------------------------------------------------

var cmRoles = map[auth.Role]string{auth.RoleAdmin: "ROLE_ADMIN", auth.RoleUser: "ROLE_USER", auth.RoleReadOnly: "ROLE_READONLY"}

func wireUser(u auth.User) apiUser {
	return apiUser{Name: u.Name, Roles: []string{cmRoles[u.Role]}}
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	users, err := a.auth.ListUsers(r.Context(), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, items(users, wireUser))
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	u, err := a.auth.GetUser(r.Context(), p, r.PathValue("user"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, wireUser(u))
}

func roleFromCM(roles []string) (auth.Role, error) {
	role := auth.RoleUser
	for _, cr := range roles {
		switch cr {
		case "ROLE_ADMIN":
			return auth.RoleAdmin, nil
		case "ROLE_USER", "ROLE_OPERATOR", "ROLE_CONFIGURATOR", "ROLE_CLUSTER_ADMIN":
			role = auth.RoleUser
		case "ROLE_LIMITED", "ROLE_READONLY", "ROLE_AUDITOR":
			role = auth.RoleReadOnly
		default:
			return "", apperr.New(apperr.Invalid, "unknown user role %q; use ROLE_ADMIN, ROLE_USER or ROLE_READONLY", cr)
		}
	}
	return role, nil
}

func (a *API) createUsers(w http.ResponseWriter, r *http.Request) {
	var in list[apiUser]
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	out := list[apiUser]{Items: []apiUser{}}
	for _, u := range in.Items {
		role, err := roleFromCM(u.Roles)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		created, err := a.auth.CreateUser(r.Context(), p, u.Name, u.Password, role)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		out.Items = append(out.Items, wireUser(created))
	}
	a.ok(w, out)
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	u, err := a.auth.GetUser(r.Context(), p, r.PathValue("user"))
	if err == nil {
		err = a.auth.DeleteUser(r.Context(), p, u.Name)
	}
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, wireUser(u))
}

// --- hosts -----------------------------------------------------------------

func (a *API) wireHost(r *http.Request, h inventory.HostInfo) apiHost {
	out := apiHost{HostID: h.ID, Hostname: h.Hostname, IPAddress: h.Address, RackID: h.Rack, LastHeartbeat: ts(h.LastHeartbeat),
		RoleRefs: []roleRef{}, HealthSummary: h.Health.Summary, HealthChecks: checks(h.Health),
		HostURL: a.baseURL(r) + "/cmf/hostRedirect/" + h.ID, CommissionState: "COMMISSIONED", MaintenanceOwners: []string{},
		NumCores: h.Cores, NumPhysicalCores: h.Cores, TotalPhysMemBytes: h.MemoryBytes}
	for _, role := range h.Roles {
		out.RoleRefs = append(out.RoleRefs, roleRef{role.Cluster, role.Service, role.Name})
	}
	if h.Cluster != "" {
		out.ClusterRef = &clusterRef{h.Cluster}
	}
	state := inventory.StateStarted
	if !h.Live {
		state = inventory.StateUnknown
	}
	out.EntityStatus = entityStatus(state, h.Health.Summary)
	return out
}

func (a *API) listHosts(w http.ResponseWriter, r *http.Request) {
	hosts, err := a.inv.ListHosts(r.Context(), "")
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, items(hosts, func(h inventory.HostInfo) apiHost { return a.wireHost(r, h) }))
}

func (a *API) getHost(w http.ResponseWriter, r *http.Request) {
	h, err := a.inv.GetHost(r.Context(), r.PathValue("host"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, a.wireHost(r, h))
}

func (a *API) createHosts(w http.ResponseWriter, r *http.Request) {
	var in list[apiHost]
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	nhs := make([]inventory.NewHost, 0, len(in.Items))
	for _, h := range in.Items {
		nhs = append(nhs, inventory.NewHost{ID: h.HostID, Hostname: h.Hostname, Address: h.IPAddress, Rack: h.RackID})
	}
	created, err := a.inv.CreateHosts(r.Context(), nhs)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, items(created, func(h inventory.HostInfo) apiHost { return a.wireHost(r, h) }))
}

func (a *API) deleteHost(w http.ResponseWriter, r *http.Request) {
	h, err := a.inv.DeleteHost(r.Context(), r.PathValue("host"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, a.wireHost(r, h))
}

// --- clusters --------------------------------------------------------------

func (a *API) wireCluster(r *http.Request, c inventory.Cluster) apiCluster {
	base := a.baseURL(r)
	out := apiCluster{Name: c.Name, DisplayName: c.DisplayName, Version: c.Version, FullVersion: c.FullVersion, MaintenanceOwners: []string{},
		ClusterURL: base + "/cmf/clusterRedirect/" + c.Name, HostsURL: base + "/cmf/clusterRedirect/" + c.Name + "/hosts", UUID: c.UUID}
	if v, err := a.inv.ClusterStatus(r.Context(), c); err == nil {
		out.EntityStatus = entityStatus(v.State, v.Health.Summary)
	}
	return out
}

func (a *API) listClusters(w http.ResponseWriter, r *http.Request) {
	cs, err := a.inv.ListClusters(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, items(cs, func(c inventory.Cluster) apiCluster { return a.wireCluster(r, c) }))
}

func (a *API) getCluster(w http.ResponseWriter, r *http.Request) {
	c, err := a.inv.GetCluster(r.Context(), r.PathValue("cluster"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, a.wireCluster(r, c))
}

func (a *API) createClusters(w http.ResponseWriter, r *http.Request) {
	var in list[apiCluster]
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	ncs := make([]inventory.NewCluster, 0, len(in.Items))
	for _, c := range in.Items {
		ncs = append(ncs, inventory.NewCluster{Name: c.Name, DisplayName: c.DisplayName, Version: c.Version, FullVersion: c.FullVersion})
	}
	created, err := a.inv.CreateClusters(r.Context(), ncs)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, items(created, func(c inventory.Cluster) apiCluster { return a.wireCluster(r, c) }))
}

func (a *API) deleteCluster(w http.ResponseWriter, r *http.Request) {
	c, err := a.inv.DeleteCluster(r.Context(), r.PathValue("cluster"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, apiCluster{Name: c.Name, DisplayName: c.DisplayName, Version: c.Version, FullVersion: c.FullVersion, MaintenanceOwners: []string{}})
}

func (a *API) listClusterHosts(w http.ResponseWriter, r *http.Request) {
	hosts, err := a.inv.ListHosts(r.Context(), r.PathValue("cluster"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, items(hosts, func(h inventory.HostInfo) hostRef { return hostRef{h.ID} }))
}

func (a *API) addClusterHosts(w http.ResponseWriter, r *http.Request) {
	var in list[hostRef]
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	ids := make([]string, 0, len(in.Items))
	for _, h := range in.Items {
		ids = append(ids, h.HostID)
	}
	if _, err := a.inv.AddHosts(r.Context(), r.PathValue("cluster"), ids); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, in)
}

func (a *API) removeClusterHost(w http.ResponseWriter, r *http.Request) {
	if err := a.inv.RemoveHost(r.Context(), r.PathValue("cluster"), r.PathValue("host")); err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, hostRef{r.PathValue("host")})
}

func (a *API) clusterCommand(w http.ResponseWriter, r *http.Request) {
	// restart's ApiRestartClusterArgs body (all nulls from cm_api) is accepted
	// and not acted on: every service is restarted.
	var ignored map[string]any
	if err := a.json.DecodeOptional(w, r, &ignored); err != nil {
		a.writeError(w, r, err)
		return
	}
	c, err := a.inv.ClusterCommand(r.Context(), r.PathValue("cluster"), r.PathValue("op"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, wireCommand(c.CommandRow))
}

// --- services --------------------------------------------------------------

func (a *API) wireService(r *http.Request, s store.ServiceRow) (apiService, error) {
	v, err := a.inv.ServiceStatus(r.Context(), s)
	if err != nil {
		return apiService{}, err
	}
	base := a.baseURL(r)
	return apiService{Name: s.Name, Type: s.Type, DisplayName: s.DisplayName, ClusterRef: clusterRef{s.Cluster},
		ServiceState: v.State, HealthSummary: v.Health.Summary, HealthChecks: checks(v.Health),
		ConfigStale: v.ConfigStale, ConfigStalenessStatus: staleness(v.ConfigStale), ClientConfigStalenessStatus: "FRESH",
		ServiceURL: base + "/cmf/serviceRedirect/" + s.Name, RoleInstancesURL: base + "/cmf/serviceRedirect/" + s.Name + "/instances",
		MaintenanceOwners: []string{}, EntityStatus: entityStatus(v.State, v.Health.Summary)}, nil
}

func (a *API) listServices(w http.ResponseWriter, r *http.Request) {
	ss, err := a.inv.ListServices(r.Context(), r.PathValue("cluster"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.reply(w, r)(tryItems(ss, func(s store.ServiceRow) (apiService, error) { return a.wireService(r, s) }))
}

func (a *API) getService(w http.ResponseWriter, r *http.Request) {
	s, err := a.inv.GetService(r.Context(), r.PathValue("cluster"), r.PathValue("service"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.reply(w, r)(a.wireService(r, s))
}

func (a *API) createServices(w http.ResponseWriter, r *http.Request) {
	var in list[apiService]
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	nss := make([]inventory.NewService, 0, len(in.Items))
	for _, s := range in.Items {
		nss = append(nss, inventory.NewService{Name: s.Name, Type: s.Type, DisplayName: s.DisplayName})
	}
	created, err := a.inv.CreateServices(r.Context(), r.PathValue("cluster"), nss)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.reply(w, r)(tryItems(created, func(s store.ServiceRow) (apiService, error) { return a.wireService(r, s) }))
}

func (a *API) deleteService(w http.ResponseWriter, r *http.Request) {
	s, err := a.inv.DeleteService(r.Context(), r.PathValue("cluster"), r.PathValue("service"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, apiService{Name: s.Name, Type: s.Type, DisplayName: s.DisplayName, ClusterRef: clusterRef{s.Cluster}, HealthChecks: []healthCheck{}, MaintenanceOwners: []string{}})
}

func (a *API) serviceCommand(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("op") == "decommission" {
		a.decommission(w, r)
		return
	}
	c, err := a.inv.ServiceCommand(r.Context(), r.PathValue("cluster"), r.PathValue("service"), r.PathValue("op"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, wireCommand(c.CommandRow))
}

// decommission takes {"items": [role names]} (ApiRoleNameList).
func (a *API) decommission(w http.ResponseWriter, r *http.Request) {
	var in list[string]
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	c, err := a.inv.Decommission(r.Context(), r.PathValue("cluster"), r.PathValue("service"), in.Items)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, wireCommand(c.CommandRow))
}

func (a *API) roleCommands(w http.ResponseWriter, r *http.Request) {
	var in list[string]
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	cmds, errs, err := a.inv.RoleCommands(r.Context(), r.PathValue("cluster"), r.PathValue("service"), r.PathValue("op"), in.Items)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := bulkCommands{Errors: errs, Items: []apiCommand{}}
	if out.Errors == nil {
		out.Errors = []string{}
	}
	for _, c := range cmds {
		out.Items = append(out.Items, wireCommand(c.CommandRow))
	}
	a.ok(w, out)
}

// --- roles -----------------------------------------------------------------

func (a *API) wireRole(r *http.Request, v inventory.RoleView) apiRole {
	return apiRole{Name: v.Name, Type: v.Type, HostRef: hostRef{v.HostID}, ServiceRef: serviceRef{v.Cluster, v.Service},
		RoleState: v.State, HealthSummary: v.Health.Summary, HealthChecks: checks(v.Health),
		ConfigStale: v.ConfigStale, ConfigStalenessStatus: staleness(v.ConfigStale),
		RoleURL: a.baseURL(r) + "/cmf/roleRedirect/" + v.Name, CommissionState: v.CommissionState, MaintenanceOwners: []string{},
		RoleConfigGroupRef: &groupRef{v.Group}, EntityStatus: entityStatus(v.State, v.Health.Summary)}
}

func (a *API) listRoles(w http.ResponseWriter, r *http.Request) {
	roles, err := a.inv.ListRoles(r.Context(), r.PathValue("cluster"), r.PathValue("service"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, items(a.inv.RoleViews(r.Context(), roles), func(v inventory.RoleView) apiRole { return a.wireRole(r, v) }))
}

func (a *API) getRole(w http.ResponseWriter, r *http.Request) {
	role, err := a.inv.GetRole(r.Context(), r.PathValue("cluster"), r.PathValue("service"), r.PathValue("role"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, a.wireRole(r, a.inv.RoleViews(r.Context(), []store.RoleRow{role})[0]))
}

func (a *API) createRoles(w http.ResponseWriter, r *http.Request) {
	var in list[apiRole]
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	var nrs []inventory.NewRole
	for _, role := range in.Items {
		nr := inventory.NewRole{Name: role.Name, Type: role.Type, HostID: role.HostRef.HostID}
		if role.RoleConfigGroupRef != nil {
			nr.Group = role.RoleConfigGroupRef.RoleConfigGroupName
		}
		nrs = append(nrs, nr)
	}
	rows, err := a.inv.CreateRoles(r.Context(), r.PathValue("cluster"), r.PathValue("service"), nrs)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, items(a.inv.RoleViews(r.Context(), rows), func(v inventory.RoleView) apiRole { return a.wireRole(r, v) }))
}

func (a *API) deleteRole(w http.ResponseWriter, r *http.Request) {
	role, err := a.inv.DeleteRole(r.Context(), r.PathValue("cluster"), r.PathValue("service"), r.PathValue("role"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, apiRole{Name: role.Name, Type: role.Type, HostRef: hostRef{role.HostID}, ServiceRef: serviceRef{role.Cluster, role.Service},
		HealthChecks: []healthCheck{}, MaintenanceOwners: []string{}})
}

// --- configuration ---------------------------------------------------------

// view parses ?view= (case-insensitive; empty is summary).
func view(r *http.Request) (full bool, err error) {
	switch v := strings.ToLower(r.URL.Query().Get("view")); v {
	case "", "summary":
		return false, nil
	case "full", "full_with_health_check_explanation", "export", "export_redacted":
		return true, nil
	default:
		return false, apperr.New(apperr.Invalid, "invalid view %q; supported views: summary, full, full_with_health_check_explanation, export, export_redacted", v)
	}
}

func wireConfig(items []inventory.ConfigItem, full bool) []apiConfig {
	out := []apiConfig{}
	for _, it := range items {
		if !full && !it.Set {
			continue
		}
		c := apiConfig{Name: it.Param.Name}
		if it.Set {
			c.Value = &it.Value
		}
		if full {
			p := it.Param
			f := false
			required, def, related, sensitive := p.Required, p.Default, p.RelatedName, p.Sensitive
			c.Required, c.Default, c.RelatedName = &required, &def, &related
			c.DisplayName, c.Description = p.DisplayName, p.Description
			c.ValidationState, c.ValidationWarningsSuppressed, c.Sensitive = "OK", &f, &sensitive
		}
		out = append(out, c)
	}
	return out
}

// configUpdates reads {"items": [{"name", "value"}]} where value may be any
// JSON scalar (cm_api sends numbers and booleans as such) or null.
type configIn struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

func updates(in []configIn) ([]inventory.ConfigUpdate, error) {
	out := make([]inventory.ConfigUpdate, 0, len(in))
	for _, c := range in {
		u := inventory.ConfigUpdate{Name: c.Name}
		raw := strings.TrimSpace(string(c.Value))
		switch {
		case raw == "" || raw == "null":
		case strings.HasPrefix(raw, `"`):
			var s string
			if err := json.Unmarshal(c.Value, &s); err != nil {
				return nil, apperr.New(apperr.Invalid, "value of %s is not a valid JSON string", c.Name)
			}
			u.Value = &s
		case strings.HasPrefix(raw, "{"), strings.HasPrefix(raw, "["):
			return nil, apperr.New(apperr.Invalid, "value of %s must be a string, number, boolean or null", c.Name)
		default: // number or boolean, as text
			u.Value = &raw
		}
		out = append(out, u)
	}
	return out, nil
}

func (a *API) getServiceConfig(w http.ResponseWriter, r *http.Request) {
	full, err := view(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items, err := a.inv.ServiceConfig(r.Context(), r.PathValue("cluster"), r.PathValue("service"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, apiServiceConfig{Items: wireConfig(items, full)})
}

func (a *API) putServiceConfig(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Items           []configIn `json:"items"`
		RoleTypeConfigs []struct {
			RoleType string     `json:"roleType"`
			Items    []configIn `json:"items"`
		} `json:"roleTypeConfigs"`
	}
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	if len(in.RoleTypeConfigs) > 0 {
		a.writeError(w, r, apperr.New(apperr.Invalid, "roleTypeConfigs are not supported since API v3; update the role config groups instead"))
		return
	}
	ups, err := updates(in.Items)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items, err := a.inv.UpdateServiceConfig(r.Context(), r.PathValue("cluster"), r.PathValue("service"), ups)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, apiServiceConfig{Items: wireConfig(items, false)})
}

func (a *API) wireGroup(r *http.Request, g store.GroupRow) (apiGroup, error) {
	items, err := a.inv.GroupConfig(r.Context(), g.Cluster, g.Service, g.Name)
	if err != nil {
		return apiGroup{}, err
	}
	return apiGroup{Name: g.Name, DisplayName: g.DisplayName, RoleType: g.RoleType, Base: g.Base,
		ServiceRef: serviceRef{g.Cluster, g.Service}, Config: list[apiConfig]{Items: wireConfig(items, false)}}, nil
}

func (a *API) listGroups(w http.ResponseWriter, r *http.Request) {
	groups, err := a.inv.ListGroups(r.Context(), r.PathValue("cluster"), r.PathValue("service"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.reply(w, r)(tryItems(groups, func(g store.GroupRow) (apiGroup, error) { return a.wireGroup(r, g) }))
}

func (a *API) getGroup(w http.ResponseWriter, r *http.Request) {
	g, err := a.inv.GetGroup(r.Context(), r.PathValue("cluster"), r.PathValue("service"), r.PathValue("group"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.reply(w, r)(a.wireGroup(r, g))
}

func (a *API) getGroupConfig(w http.ResponseWriter, r *http.Request) {
	full, err := view(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items, err := a.inv.GroupConfig(r.Context(), r.PathValue("cluster"), r.PathValue("service"), r.PathValue("group"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, list[apiConfig]{Items: wireConfig(items, full)})
}

func (a *API) putGroupConfig(w http.ResponseWriter, r *http.Request) {
	var in list[configIn]
	if err := a.json.Decode(w, r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	ups, err := updates(in.Items)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items, err := a.inv.UpdateGroupConfig(r.Context(), r.PathValue("cluster"), r.PathValue("service"), r.PathValue("group"), ups)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.ok(w, list[apiConfig]{Items: wireConfig(items, false)})
}

// --- commands --------------------------------------------------------------

func commandID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.NotFound, "command %q not found: ids are integers", r.PathValue("id"))
	}
	return id, nil
}

func (a *API) getCommand(w http.ResponseWriter, r *http.Request) {
	id, err := commandID(r)
	if err == nil {
		var c inventory.Command
		if c, err = a.inv.GetCommand(r.Context(), id); err == nil {
			a.ok(w, wireFullCommand(c))
			return
		}
	}
	a.writeError(w, r, err)
}

func (a *API) abortCommand(w http.ResponseWriter, r *http.Request) {
	id, err := commandID(r)
	if err == nil {
		p, _ := auth.PrincipalFrom(r.Context())
		var c inventory.Command
		if c, err = a.inv.AbortCommand(r.Context(), id, p.User); err == nil {
			a.ok(w, wireFullCommand(c))
			return
		}
	}
	a.writeError(w, r, err)
}
