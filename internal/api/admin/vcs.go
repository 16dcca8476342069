package admin

import (
	"net/http"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/jobs"
)

// VirtualCluster is a virtual cluster on the wire.
type VirtualCluster struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	SparkMaster string `json:"sparkMaster"`
	CreatedAt   string `json:"createdAt"`
}

func wireVC(vc jobs.VirtualCluster) VirtualCluster {
	return VirtualCluster{ID: vc.ID, Name: vc.Name, SparkMaster: vc.SparkMaster, CreatedAt: rfc3339(vc.CreatedAt)}
}

// VirtualClusterList is the answer of GET /herd/v1/virtual-clusters.
type VirtualClusterList struct {
	VirtualClusters []VirtualCluster `json:"virtualClusters"`
}

func (a *API) listVCs(w http.ResponseWriter, r *http.Request) {
	vcs, err := a.jobs.ListVirtualClusters(r.Context())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := VirtualClusterList{VirtualClusters: make([]VirtualCluster, len(vcs))}
	for i, vc := range vcs {
		out.VirtualClusters[i] = wireVC(vc)
	}
	httpjson.Write(w, http.StatusOK, out)
}

// CreateVirtualClusterRequest is the body of POST /herd/v1/virtual-clusters.
type CreateVirtualClusterRequest struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	SparkMaster string `json:"sparkMaster"`
}

func (a *API) createVC(w http.ResponseWriter, r *http.Request) {
	var req CreateVirtualClusterRequest
	if err := a.json.Decode(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	vc, err := a.jobs.CreateVirtualCluster(r.Context(), p, jobs.VirtualCluster{ID: req.ID, Name: req.Name, SparkMaster: req.SparkMaster})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusCreated, wireVC(vc))
}

func (a *API) getVC(w http.ResponseWriter, r *http.Request) {
	vc, err := a.jobs.VirtualCluster(r.Context(), r.PathValue("id"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireVC(vc))
}

// UpdateVirtualClusterRequest is the body of PATCH
// /herd/v1/virtual-clusters/{id}; absent fields stay.
type UpdateVirtualClusterRequest struct {
	Name        *string `json:"name"`
	SparkMaster *string `json:"sparkMaster"`
}

func (a *API) updateVC(w http.ResponseWriter, r *http.Request) {
	var req UpdateVirtualClusterRequest
	if err := a.json.Decode(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	vc, err := a.jobs.UpdateVirtualCluster(r.Context(), p, r.PathValue("id"), jobs.VirtualClusterUpdate{Name: req.Name, SparkMaster: req.SparkMaster})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, wireVC(vc))
}

func (a *API) deleteVC(w http.ResponseWriter, r *http.Request) {
	p, _ := auth.PrincipalFrom(r.Context())
	if err := a.jobs.DeleteVirtualCluster(r.Context(), p, r.PathValue("id")); err != nil {
		a.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
