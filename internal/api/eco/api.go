package eco

import (
	"cmp"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/eco"
	"github.com/herdhq/herd/internal/store"
)

// Prefix is the path of the API.
const Prefix = "/v2/hadoop-eco/clusters"

// API serves the Hadoop Eco Open API over an eco.Service.
type API struct {
	eco        *eco.Service
	auth       *auth.Service
	maxBody    int64
	now        func() time.Time
	writeError func(http.ResponseWriter, *http.Request, error)
}

// New returns the API.
func New(svc *eco.Service, a *auth.Service, log *slog.Logger, maxBody int64, now func() time.Time) *API {
	if now == nil {
		now = time.Now
	}
	return &API{eco: svc, auth: a, maxBody: maxBody, now: now, writeError: httpjson.CodedErrorWriter(log)}
}

// Register adds the routes: access keys as Credential-ID and
// Credential-Secret, as KakaoCloud's API takes them.
func (a *API) Register(mux *http.ServeMux) {
	guard := a.auth.Require(auth.Guard{Schemes: auth.CredentialHeaders, Service: "hadoop-eco", Fail: a.writeError})
	h := func(pattern string, f http.HandlerFunc) { mux.Handle(pattern, guard(f)) }
	h("POST "+Prefix, a.create)
	h("GET "+Prefix, a.list)
	h("GET "+Prefix+"/{id}", a.get)
	h("DELETE "+Prefix+"/{id}", a.delete)
	h("GET "+Prefix+"/{id}/vms", a.vms)
	h("POST "+Prefix+"/{id}/scale-out", a.scale(a.eco.ScaleOut))
	// The seed documents scale-in as POST and shows it as DELETE.
	h("POST "+Prefix+"/{id}/scale-in", a.scale(a.eco.ScaleIn))
	h("DELETE "+Prefix+"/{id}/scale-in", a.scale(a.eco.ScaleIn))
}

func (a *API) body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	if err != nil {
		return nil, apperr.New(apperr.TooLarge, "the request body is larger than %d bytes", a.maxBody)
	}
	return b, nil
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	b, err := a.body(w, r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	spec, err := eco.ParseCreate(b)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	c, err := a.eco.Create(r.Context(), p.User, spec)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, ClusterStatus{ID: c.ID, Name: c.Name, Status: c.Status})
}

func (a *API) get(w http.ResponseWriter, r *http.Request) {
	c, err := a.eco.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, a.wireCluster(c))
}

func (a *API) delete(w http.ResponseWriter, r *http.Request) {
	c, err := a.eco.Delete(r.Context(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, ClusterStatus{ID: c.ID, Name: c.Name, Status: c.Status})
}

func (a *API) scale(do func(ctx context.Context, id string, n int) (eco.Cluster, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := a.body(w, r)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		n, err := eco.ParseScale(b)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		c, err := do(r.Context(), r.PathValue("id"), n)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		httpjson.Write(w, http.StatusOK, ClusterStatus{ID: c.ID, Name: c.Name, Status: c.Status})
	}
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q, err := ParseListQuery(r.URL.Query(), ClusterSortFields, ClusterFilters)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	cs, err := a.eco.List(r.Context(), q.IncludeTerminated)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	items := make([]ClusterItem, 0, len(cs))
	for _, c := range cs {
		it := a.wireItem(c)
		if like(it.Name, q.Filters["name"]) && like(it.APIKeyStatus, q.Filters["apiKeyStatus"]) {
			items = append(items, it)
		}
	}
	sortBy(items, q.Sort, clusterKeys)
	httpjson.Write(w, http.StatusOK, page(items, q))
}

func (a *API) vms(w http.ResponseWriter, r *http.Request) {
	q, err := ParseListQuery(r.URL.Query(), VMSortFields, VMFilters)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	c, err := a.eco.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var items []VM
	for _, v := range c.LiveVMs() {
		vm := wireVM(v)
		if like(vm.Name, q.Filters["name"]) && like(vm.IP, q.Filters["ip"]) && like(vm.InstanceID, q.Filters["instanceId"]) {
			items = append(items, vm)
		}
	}
	sortBy(items, q.Sort, vmKeys)
	httpjson.Write(w, http.StatusOK, page(items, q))
}

// page cuts one page out of all items.
func page[T any](all []T, q ListQuery) Page[T] {
	from := min(q.Page*q.Size, len(all))
	to := min(from+q.Size, len(all))
	return NewPage(all[from:to], q, len(all))
}

// like is KakaoCloud's like-search: the value contains the filter.
func like(value, filter string) bool { return strings.Contains(value, filter) }

// sortBy sorts items by the orders, first order first; the list's own
// order breaks ties.
func sortBy[T any](items []T, orders []Order, keys map[string]func(T) any) {
	if len(orders) == 0 {
		return
	}
	slices.SortStableFunc(items, func(x, y T) int {
		for _, o := range orders {
			c := compareAny(keys[o.Field](x), keys[o.Field](y))
			if o.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}

func compareAny(x, y any) int {
	switch x := x.(type) {
	case string:
		return cmp.Compare(x, y.(string))
	case int:
		return cmp.Compare(x, y.(int))
	case int64:
		return cmp.Compare(x, y.(int64))
	case bool:
		yb := y.(bool)
		switch {
		case x == yb:
			return 0
		case !x:
			return -1
		}
		return 1
	case *int64:
		yp := y.(*int64)
		switch {
		case x == nil && yp == nil:
			return 0
		case x == nil:
			return -1
		case yp == nil:
			return 1
		}
		return cmp.Compare(*x, *yp)
	}
	return 0
}

var clusterKeys = map[string]func(ClusterItem) any{
	"id": func(c ClusterItem) any { return c.ID }, "name": func(c ClusterItem) any { return c.Name },
	"status": func(c ClusterItem) any { return c.Status }, "owner": func(c ClusterItem) any { return c.Owner },
	"clusterType": func(c ClusterItem) any { return c.ClusterType }, "clusterVersion": func(c ClusterItem) any { return c.ClusterVersion },
	"apiKeyStatus": func(c ClusterItem) any { return c.APIKeyStatus }, "masterCnt": func(c ClusterItem) any { return c.MasterCnt },
	"workerCnt": func(c ClusterItem) any { return c.WorkerCnt }, "createdAt": func(c ClusterItem) any { return c.CreatedAt },
	"runningAt": func(c ClusterItem) any { return c.RunningAt }, "elapsedTime": func(c ClusterItem) any { return c.ElapsedTime },
}

var vmKeys = map[string]func(VM) any{
	"name": func(v VM) any { return v.Name }, "instanceId": func(v VM) any { return v.InstanceID },
	"isMaster": func(v VM) any { return v.IsMaster }, "flavorName": func(v VM) any { return v.FlavorName },
	"ip": func(v VM) any { return v.IP }, "floatingIp": func(v VM) any { return v.FloatingIP },
	"createdAt": func(v VM) any { return v.CreatedAt }, "status": func(v VM) any { return v.Status },
}

// counts are a cluster's masters, workers and nodes: 0 once terminated.
func counts(c eco.Cluster) (masters, workers int) {
	for _, v := range c.LiveVMs() {
		if v.IsMaster {
			masters++
		} else {
			workers++
		}
	}
	return masters, workers
}

// elapsed is how long the cluster has been up since it first ran, to its
// termination.
func (a *API) elapsed(c eco.Cluster) int64 {
	if c.RunningAt.IsZero() {
		return 0
	}
	end := a.now()
	if !c.TerminatedAt.IsZero() {
		end = c.TerminatedAt
	}
	return end.Sub(c.RunningAt).Milliseconds()
}

// apiKeyStatus: the job-cluster API key is not offered, so every cluster
// is "impossible" (not applicable).
const apiKeyStatus = "impossible"

func (a *API) wireItem(c eco.Cluster) ClusterItem {
	m, w := counts(c)
	return ClusterItem{ID: c.ID, Name: c.Name, Status: c.Status, Owner: c.Owner, ClusterType: c.Spec.ClusterType,
		ClusterVersion: c.Spec.ClusterVersion, IsScalable: c.Status == eco.StatusRunning && !c.Changing, APIKeyStatus: apiKeyStatus,
		MasterCnt: m, WorkerCnt: w, NodeCnt: m + w, CreatedAt: Millis(c.CreatedAt), RunningAt: OptionalMillis(c.RunningAt),
		ElapsedTime: a.elapsed(c)}
}

func (a *API) wireCluster(c eco.Cluster) Cluster {
	it := a.wireItem(c)
	s := c.Spec
	out := Cluster{ID: c.ID, Name: c.Name, Owner: c.Owner, ClusterType: s.ClusterType, ClusterVersion: s.ClusterVersion, IsHA: s.IsHA,
		IsScalable: it.IsScalable, Status: c.Status, APIKeyStatus: apiKeyStatus, MasterCnt: it.MasterCnt, WorkerCnt: it.WorkerCnt,
		NodeCnt: it.NodeCnt, VpcID: s.VpcID, SubnetID: s.SubnetID, SecurityGroupIDs: s.SecurityGroupIDs, KeypairName: s.KeypairName,
		Monitoring: s.Monitoring, ImageName: "herd-local-" + s.ClusterVersion, CreatedAt: it.CreatedAt, RunningAt: it.RunningAt,
		ElapsedTime: it.ElapsedTime, TotalVMUptime: a.vmUptime(c),
		MasterInfo: []NodeInfo{{FlavorID: s.Master.FlavorName, FlavorName: s.Master.FlavorName, VolumeSize: s.Master.VolumeGB}},
		WorkerInfo: []NodeInfo{{FlavorID: s.Worker.FlavorName, FlavorName: s.Worker.FlavorName, VolumeSize: s.Worker.VolumeGB}},
		Config: ClusterConfig{HDFSBlockSize: s.HDFSBlockSizeMB, HDFSReplication: s.HDFSReplication, ConfigFileURL: s.ConfigFileURL,
			ConfigText: base64Of(s.ConfigText)},
		Reason: c.Reason,
	}
	if s.Admin != nil {
		out.AdminInfo.UserID = s.Admin.UserID
	}
	if t := s.Task; t != nil {
		out.UserTask = &UserTask{Type: t.Type, TerminationPolicy: t.TerminationPolicy, FileURL: t.FileURL, HiveQuery: t.HiveQuery,
			DeployMode: t.DeployMode, ExecOpts: t.ExecOpts, ExecParams: t.ExecParams, LogBucketName: t.LogBucketName,
			LogURL: c.TaskLogURL, Status: c.TaskStatus}
	}
	for _, v := range c.LiveVMs() {
		if v.IsMaster && v.Address != "" && c.Status == eco.StatusRunning {
			out.NameNodeURL = "http://" + v.Address + ":9870"
			break
		}
	}
	return out
}

// vmUptime sums how long the cluster's VMs have existed.
func (a *API) vmUptime(c eco.Cluster) int64 {
	var total time.Duration
	for _, v := range c.VMs {
		end := a.now()
		if !v.DeletedAt.IsZero() {
			end = v.DeletedAt
		}
		total += end.Sub(v.CreatedAt)
	}
	return total.Milliseconds()
}

func wireVM(v store.EcoVMRow) VM {
	return VM{Name: v.Name, InstanceID: v.InstanceID, Index: v.Index, IsMaster: v.IsMaster, Status: v.Status, FlavorName: v.Flavor,
		IP: v.Address, CreatedAt: Millis(v.CreatedAt)}
}

// base64Of is configText as it was sent: Base64, or empty.
func base64Of(text string) string {
	if text == "" {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(text))
}
