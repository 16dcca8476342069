package iam

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/herdhq/herd/internal/api/httpjson"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
)

// API serves the IAM calls.
type API struct {
	auth       *auth.Service
	cdeService string // the CDE service's id: describeService knows cluster-<id>
	json       httpjson.Decoder
	writeError func(http.ResponseWriter, *http.Request, error)
}

// New returns the IAM API and the DE describeService call of the CDE
// service cdeService.
func New(a *auth.Service, cdeService string, log *slog.Logger, maxBody int64) *API {
	return &API{auth: a, cdeService: cdeService, json: httpjson.Decoder{MaxBytes: maxBody}, writeError: httpjson.CodedErrorWriter(log)}
}

// Register adds the routes under both prefixes.
func (a *API) Register(mux *http.ServeMux) {
	signed := a.auth.Require(auth.Guard{Schemes: auth.Signature, Service: "iam", Fail: a.writeError})
	managed := a.auth.Require(auth.Guard{Schemes: auth.Basic | auth.Signature, Realm: "Herd", Service: "iam", Fail: a.writeError})
	routes := map[string]http.Handler{
		"generateWorkloadAuthToken": signed(http.HandlerFunc(a.generateWorkloadAuthToken)),
		"createAccessKey":           managed(http.HandlerFunc(a.createAccessKey)),
		"createUserAccessKey":       managed(http.HandlerFunc(a.createAccessKey)),
		"listAccessKeys":            managed(http.HandlerFunc(a.listAccessKeys)),
		"getAccessKey":              managed(http.HandlerFunc(a.getAccessKey)),
		"updateAccessKey":           managed(http.HandlerFunc(a.updateAccessKey)),
		"deleteAccessKey":           managed(http.HandlerFunc(a.deleteAccessKey)),
	}
	for op, h := range routes {
		mux.Handle("POST /api/v1/iam/"+op, h)
		mux.Handle("POST /iam/"+op, h)
	}
	mux.Handle("POST /api/v1/de/describeService", managed(http.HandlerFunc(a.describeService)))
}

// pythonISO renders a time as CDP's examples show it:
// "2021-05-03T15:34:03.727000+00:00".
func pythonISO(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000+00:00")
}

// GenerateWorkloadAuthTokenRequest is the body of generateWorkloadAuthToken.
type GenerateWorkloadAuthTokenRequest struct {
	WorkloadName   string `json:"workloadName"`
	EnvironmentCRN string `json:"environmentCrn"`
	ExcludeGroups  bool   `json:"excludeGroups"`
}

// GenerateWorkloadAuthTokenResponse is the answer of generateWorkloadAuthToken.
type GenerateWorkloadAuthTokenResponse struct {
	Token    string `json:"token"`
	ExpireAt string `json:"expireAt"`
}

func (a *API) generateWorkloadAuthToken(w http.ResponseWriter, r *http.Request) {
	var req GenerateWorkloadAuthTokenRequest
	if err := a.json.Decode(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.WorkloadName == "" {
		a.writeError(w, r, apperr.New(apperr.Invalid, "workloadName is required"))
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	t, err := a.auth.IssueWorkloadToken(p, req.WorkloadName)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, http.StatusOK, GenerateWorkloadAuthTokenResponse{Token: t.Token, ExpireAt: pythonISO(t.ExpiresAt)})
}

// AccessKey is the CDP AccessKey object.
type AccessKey struct {
	AccessKeyID  string     `json:"accessKeyId"`
	CRN          string     `json:"crn"`
	ActorCRN     string     `json:"actorCrn"`
	CreationDate string     `json:"creationDate"`
	Status       string     `json:"status"`
	Type         string     `json:"type"`
	LastUsage    *LastUsage `json:"lastUsage,omitempty"`
}

// LastUsage is the CDP AccessKeyLastUsage object.
type LastUsage struct {
	LastUsageDate string `json:"lastUsageDate"`
	ServiceName   string `json:"serviceName,omitempty"`
}

func (a *API) wireKey(k auth.AccessKey) AccessKey {
	out := AccessKey{
		AccessKeyID:  k.ID,
		CRN:          a.auth.AccessKeyCRN(k.ID),
		ActorCRN:     a.auth.UserCRN(k.User),
		CreationDate: k.CreatedAt.UTC().Format(time.RFC3339Nano),
		Status:       k.Status,
		Type:         "V2", // Ed25519 signing, in CDP's terms
	}
	if !k.LastUsedAt.IsZero() {
		out.LastUsage = &LastUsage{LastUsageDate: k.LastUsedAt.UTC().Format(time.RFC3339Nano), ServiceName: k.LastUsedService}
	}
	return out
}

// CreateAccessKeyRequest is the body of createAccessKey and createUserAccessKey.
type CreateAccessKeyRequest struct {
	User string `json:"user"`
	Type string `json:"type"`
}

// CreateAccessKeyResponse is their answer; PrivateKey is shown only here.
type CreateAccessKeyResponse struct {
	AccessKey  AccessKey `json:"accessKey"`
	PrivateKey string    `json:"privateKey"`
}

func (a *API) createAccessKey(w http.ResponseWriter, r *http.Request) {
	var req CreateAccessKeyRequest
	if err := a.json.DecodeOptional(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.Type != "" && req.Type != "V2" {
		a.writeError(w, r, apperr.New(apperr.Invalid, "access key type %q is not supported: Herd issues V2 (Ed25519) keys", req.Type))
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	k, private, err := a.auth.CreateAccessKey(r.Context(), p, req.User)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, http.StatusOK, CreateAccessKeyResponse{AccessKey: a.wireKey(k), PrivateKey: private})
}

// ListAccessKeysRequest is the body of listAccessKeys; All (a Herd extension) lists every user's keys for an admin.
type ListAccessKeysRequest struct {
	User          string   `json:"user"`
	All           bool     `json:"all"`
	AccessKeyIDs  []string `json:"accessKeyIds"`
	PageSize      int      `json:"pageSize"`
	StartingToken string   `json:"startingToken"`
}

// ListAccessKeysResponse is the answer of listAccessKeys.
type ListAccessKeysResponse struct {
	AccessKeys []AccessKey `json:"accessKeys"`
	NextToken  string      `json:"nextToken,omitempty"`
}

func (a *API) listAccessKeys(w http.ResponseWriter, r *http.Request) {
	var req ListAccessKeysRequest
	if err := a.json.DecodeOptional(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	page, err := newPage(req.PageSize, req.StartingToken)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	keys, err := a.auth.ListAccessKeys(r.Context(), p, req.User, req.All)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if len(req.AccessKeyIDs) > 0 {
		keys = filterKeys(keys, req.AccessKeyIDs, a.auth.AccessKeyCRN)
	}
	out := ListAccessKeysResponse{AccessKeys: []AccessKey{}}
	items, next := page.slice(len(keys))
	for _, k := range keys[items.start:items.end] {
		out.AccessKeys = append(out.AccessKeys, a.wireKey(k))
	}
	out.NextToken = next
	httpjson.Write(w, http.StatusOK, out)
}

func filterKeys(keys []auth.AccessKey, want []string, crn func(string) string) []auth.AccessKey {
	set := map[string]bool{}
	for _, id := range want {
		set[id] = true
	}
	var out []auth.AccessKey
	for _, k := range keys {
		if set[k.ID] || set[crn(k.ID)] {
			out = append(out, k)
		}
	}
	return out
}

// AccessKeyIDRequest names one access key.
type AccessKeyIDRequest struct {
	AccessKeyID string `json:"accessKeyId"`
}

// AccessKeyResponse carries one access key.
type AccessKeyResponse struct {
	AccessKey AccessKey `json:"accessKey"`
}

func (a *API) getAccessKey(w http.ResponseWriter, r *http.Request) {
	var req AccessKeyIDRequest
	if err := a.json.DecodeOptional(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	id := req.AccessKeyID
	if id == "" {
		// As in CDP: without an id, the key that signed the request.
		if id = p.AccessKeyID; id == "" {
			a.writeError(w, r, apperr.New(apperr.Invalid, "accessKeyId is required"))
			return
		}
	}
	k, err := a.auth.GetAccessKey(r.Context(), p, id)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, AccessKeyResponse{AccessKey: a.wireKey(k)})
}

// UpdateAccessKeyRequest is the body of updateAccessKey.
type UpdateAccessKeyRequest struct {
	AccessKeyID string `json:"accessKeyId"`
	Status      string `json:"status"`
}

func (a *API) updateAccessKey(w http.ResponseWriter, r *http.Request) {
	var req UpdateAccessKeyRequest
	if err := a.json.Decode(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.AccessKeyID == "" || req.Status == "" {
		a.writeError(w, r, apperr.New(apperr.Invalid, "accessKeyId and status are required"))
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	k, err := a.auth.SetAccessKeyStatus(r.Context(), p, req.AccessKeyID, req.Status)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, AccessKeyResponse{AccessKey: a.wireKey(k)})
}

func (a *API) deleteAccessKey(w http.ResponseWriter, r *http.Request) {
	var req AccessKeyIDRequest
	if err := a.json.Decode(w, r, &req); err != nil {
		a.writeError(w, r, err)
		return
	}
	if req.AccessKeyID == "" {
		a.writeError(w, r, apperr.New(apperr.Invalid, "accessKeyId is required"))
		return
	}
	p, _ := auth.PrincipalFrom(r.Context())
	if err := a.auth.DeleteAccessKey(r.Context(), p, req.AccessKeyID); err != nil {
		a.writeError(w, r, err)
		return
	}
	httpjson.Write(w, http.StatusOK, struct{}{})
}
