package server_test

import (
	"net/http"
	"testing"

	"github.com/herdhq/herd/internal/api/admin"
	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/server/servertest"
)

// Virtual clusters through /herd/v1, and the jobs API of each reached by
// its host name.
func TestVirtualClusters(t *testing.T) {
	env := servertest.Start(t)
	root := headers{"Authorization": basic("admin", env.AdminPassword)}
	mustStatus(t, http.StatusCreated, http.MethodPost, env.URL+"/herd/v1/users", `{"name":"bob","password":"bob-secret-1","role":"user"}`, root)
	bob := headers{"Authorization": basic("bob", "bob-secret-1")}

	vc := decode[admin.VirtualCluster](t, mustStatus(t, http.StatusCreated, http.MethodPost, env.URL+"/herd/v1/virtual-clusters",
		`{"id": "etl", "name": "ETL", "sparkMaster": "spark://127.0.1.1:7077"}`, root))
	if vc.ID != "etl" || vc.Name != "ETL" || vc.SparkMaster != "spark://127.0.1.1:7077" || vc.CreatedAt == "" {
		t.Fatalf("created %+v", vc)
	}
	list := decode[admin.VirtualClusterList](t, mustStatus(t, http.StatusOK, http.MethodGet, env.URL+"/herd/v1/virtual-clusters", "", bob))
	if len(list.VirtualClusters) != 2 || list.VirtualClusters[0].ID != "default" || list.VirtualClusters[0].SparkMaster != "local[*]" || list.VirtualClusters[1] != vc {
		t.Fatalf("list %+v", list)
	}

	e := func(name, method, path, body string, h headers, status int, code, msg string) badCase {
		return badCase{name: name, method: method, path: path, body: body, headers: h, status: status, shape: cdpShape, code: code, message: msg}
	}
	runBadCases(t, env, []badCase{
		e("a user creates", "POST", "/herd/v1/virtual-clusters", `{"id": "mine"}`, bob, 403, "PERMISSION_DENIED", "only admins"),
		e("a user changes", "PATCH", "/herd/v1/virtual-clusters/etl", `{"sparkMaster": "local[*]"}`, bob, 403, "PERMISSION_DENIED", "only admins"),
		e("a user deletes", "DELETE", "/herd/v1/virtual-clusters/etl", "", bob, 403, "PERMISSION_DENIED", "only admins"),
		e("a taken id", "POST", "/herd/v1/virtual-clusters", `{"id": "etl", "name": "other"}`, root, 409, "ALREADY_EXISTS", "exists already"),
		e("an id that is no DNS label", "POST", "/herd/v1/virtual-clusters", `{"id": "ETL.1"}`, root, 400, "INVALID_ARGUMENT", "DNS label"),
		e("no id", "POST", "/herd/v1/virtual-clusters", `{"sparkMaster": "local[2]"}`, root, 400, "INVALID_ARGUMENT", "DNS label"),
		e("the Knox host's label", "POST", "/herd/v1/virtual-clusters", `{"id": "service"}`, root, 400, "INVALID_ARGUMENT", "token service"),
		e("a YARN master", "POST", "/herd/v1/virtual-clusters", `{"id": "y", "sparkMaster": "yarn"}`, root, 400, "INVALID_ARGUMENT", "not supported"),
		e("an unknown field", "POST", "/herd/v1/virtual-clusters", `{"id": "x", "master": "local"}`, root, 400, "INVALID_ARGUMENT", "master"),
		e("a master of the wrong type", "PATCH", "/herd/v1/virtual-clusters/etl", `{"sparkMaster": 7077}`, root, 400, "INVALID_ARGUMENT", "sparkMaster"),
		e("the default cluster's master", "PATCH", "/herd/v1/virtual-clusters/default", `{"sparkMaster": "local[2]"}`, root, 400, "INVALID_ARGUMENT", "spark-master setting"),
		e("a missing cluster", "GET", "/herd/v1/virtual-clusters/nope", "", root, 404, "NOT_FOUND", "not found"),
		e("delete the default cluster", "DELETE", "/herd/v1/virtual-clusters/default", "", root, 409, "ALREADY_EXISTS", "cannot be deleted"),
	})

	// Each cluster's jobs API is the one its host name reaches: etl.<domain>
	// for etl; an address, or a label that names no cluster, the default.
	etl := newCDEClient(t, env, "bob", "bob-secret-1")
	etl.host = "etl.cde-herd.example.com:7180"
	if info := decode[cde.Info](t, etl.must(http.StatusOK, http.MethodGet, "/info", "")); info.AppID != "etl" || info.AppName != "ETL" {
		t.Fatalf("/info at etl's host: %+v", info)
	}
	etl.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "load", "type": "spark", "spark": {"file": "load.py"}}`)
	dflt := newCDEClient(t, env, "bob", "bob-secret-1")
	dflt.must(http.StatusNotFound, http.MethodGet, "/jobs/load", "")
	other := newCDEClient(t, env, "bob", "bob-secret-1")
	other.host = "other.cde-herd.example.com"
	if info := decode[cde.Info](t, other.must(http.StatusOK, http.MethodGet, "/info", "")); info.AppID != "default" {
		t.Fatalf("/info at a host that names no cluster: %+v", info)
	}
	if jobs := decode[cde.JobList](t, etl.must(http.StatusOK, http.MethodGet, "/jobs", "")); len(jobs.Jobs) != 1 || jobs.Jobs[0].Name != "load" {
		t.Fatalf("etl's jobs: %+v", jobs)
	}

	// A cluster that holds a job stays; once empty, it goes.
	st, _, b := call(t, http.MethodDelete, env.URL+"/herd/v1/virtual-clusters/etl", "", root)
	if st != http.StatusConflict || errorBody(t, b)["message"] == nil {
		t.Fatalf("delete a cluster with a job: %d %s", st, b)
	}
	etl.must(http.StatusNoContent, http.MethodDelete, "/jobs/load", "")
	renamed := decode[admin.VirtualCluster](t, mustStatus(t, http.StatusOK, http.MethodPatch, env.URL+"/herd/v1/virtual-clusters/etl", `{"sparkMaster": "local[2]"}`, root))
	if renamed.SparkMaster != "local[2]" || renamed.Name != "ETL" {
		t.Fatalf("patched %+v", renamed)
	}
	mustStatus(t, http.StatusNoContent, http.MethodDelete, env.URL+"/herd/v1/virtual-clusters/etl", "", root)
	if info := decode[cde.Info](t, etl.must(http.StatusOK, http.MethodGet, "/info", "")); info.AppID != "default" {
		t.Fatalf("/info at a deleted cluster's host: %+v", info)
	}
}
