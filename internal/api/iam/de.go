package iam

import (
	"net/http"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
)

// DescribeServiceRequest is the body of the DE control plane's
// describeService.
type DescribeServiceRequest struct {
	ClusterID string `json:"clusterId"`
}

// DescribeServiceResponse is the answer of describeService.
type DescribeServiceResponse struct {
	Service ServiceDescription `json:"service"`
}

// ServiceDescription describes a CDE service. The CDE SDK reads
// environmentCrn, for generateWorkloadAuthToken.
type ServiceDescription struct {
	ClusterID       string `json:"clusterId"`
	Name            string `json:"name"`
	EnvironmentName string `json:"environmentName"`
	EnvironmentCRN  string `json:"environmentCrn"`
	TenantID        string `json:"tenantId"`
	Status          string `json:"status"`
}

// describeService describes this server's one CDE service, cluster-<id>
// for the cde-service-id setting; other ids are NOT_FOUND, which is what
// the CDE SDK's region probe looks for.
func (a *API) describeService(w http.ResponseWriter, r *http.Request) {
	var req DescribeServiceRequest
	if err := a.json.Decode(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.ClusterID == "" {
		a.writeError(w, r, apperr.New(apperr.Invalid, "clusterId is required"))
		return
	}
	if req.ClusterID != "cluster-"+a.cdeService {
		a.writeError(w, r, apperr.New(apperr.NotFound, "CDE service %q not found; this server's is %q", req.ClusterID, "cluster-"+a.cdeService))
		return
	}
	httpjson.Write(w, http.StatusOK, DescribeServiceResponse{Service: ServiceDescription{
		ClusterID: req.ClusterID, Name: a.cdeService, EnvironmentName: "herd",
		EnvironmentCRN: a.auth.EnvironmentCRN(), TenantID: a.auth.AccountID(), Status: "ClusterCreationCompleted",
	}})
}
