package cde

import (
	"encoding/json"
	"time"

	"github.com/herdhq/herd/internal/jobs"
)

// Times are written as CDE writes them: RFC 3339, UTC, whole seconds. A
// time not set yet is Go's zero time, as the real server sends it.
func wireTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// Meta is the paging block of every list.
type Meta struct {
	HasNext bool `json:"hasNext"`
	Limit   int  `json:"limit"`
	Offset  int  `json:"offset"`
	Count   int  `json:"count"`
}

func wireMeta(p jobs.Page) Meta {
	return Meta{HasNext: p.Offset+p.Returned < p.Total, Limit: p.Limit, Offset: p.Offset, Count: p.Total}
}

// Job is a job on the wire: its definition and its timestamps.
type Job struct {
	jobs.Definition
	Created  string `json:"created"`
	Modified string `json:"modified"`
	LastUsed string `json:"lastUsed"`
}

func wireJob(j jobs.Job) Job {
	return Job{Definition: j.Definition, Created: wireTime(j.Created), Modified: wireTime(j.Modified), LastUsed: wireTime(j.LastUsed)}
}

// JobList is the answer of GET /jobs.
type JobList struct {
	Jobs []Job `json:"jobs"`
	Meta Meta  `json:"meta"`
}

// ResourceInput is the body of POST /resources. The hyphenated keys are
// what cdepy sends.
type ResourceInput struct {
	Name                 string                   `json:"name"`
	Type                 string                   `json:"type"`
	RetentionPolicy      string                   `json:"retentionPolicy"`
	RetentionPolicyAlias string                   `json:"retention-policy"`
	Hidden               bool                     `json:"hidden"`
	PythonEnv            *jobs.PythonEnv          `json:"pythonEnv"`
	PythonVersionAlias   string                   `json:"python-version"`
	CustomRuntimeImage   *jobs.CustomRuntimeImage `json:"customRuntimeImage"`
}

func (in ResourceInput) domain() jobs.NewResource {
	out := jobs.NewResource{Name: in.Name, Type: in.Type, ResourceSpec: jobs.ResourceSpec{
		RetentionPolicy: in.RetentionPolicy, Hidden: in.Hidden, PythonEnv: in.PythonEnv, CustomRuntimeImage: in.CustomRuntimeImage,
	}}
	if out.RetentionPolicy == "" {
		out.RetentionPolicy = in.RetentionPolicyAlias
	}
	if in.PythonVersionAlias != "" && out.PythonEnv == nil {
		out.PythonEnv = &jobs.PythonEnv{PythonVersion: in.PythonVersionAlias}
	}
	return out
}

// Resource is a resource on the wire.
type Resource struct {
	Name               string                   `json:"name"`
	Type               string                   `json:"type"`
	Status             string                   `json:"status"`
	Signature          string                   `json:"signature,omitempty"`
	RetentionPolicy    string                   `json:"retentionPolicy"`
	Hidden             bool                     `json:"hidden"`
	PythonEnv          *jobs.PythonEnv          `json:"pythonEnv,omitempty"`
	CustomRuntimeImage *jobs.CustomRuntimeImage `json:"customRuntimeImage,omitempty"`
	Created            string                   `json:"created"`
	Modified           string                   `json:"modified"`
	LastUsed           string                   `json:"lastUsed"`
	Files              []File                   `json:"files,omitzero"` // present, maybe empty, when asked for
	PythonEnvInfo      *PythonEnvInfo           `json:"pythonEnvInfo,omitempty"`
}

// File is a file of a resource on the wire.
type File struct {
	Path      string `json:"path"`
	Signature string `json:"signature"`
	SizeBytes int64  `json:"sizeBytes"`
	Created   string `json:"created"`
	Modified  string `json:"modified"`
}

func wireFile(f jobs.File) File {
	return File{Path: f.Path, Signature: f.Signature, SizeBytes: f.SizeBytes, Created: wireTime(f.Created), Modified: wireTime(f.Modified)}
}

func wireResource(r jobs.Resource) Resource {
	out := Resource{
		Name: r.Name, Type: r.Type, Status: r.Status, RetentionPolicy: r.RetentionPolicy, Hidden: r.Hidden,
		PythonEnv: r.PythonEnv, CustomRuntimeImage: r.CustomRuntimeImage,
		Created: wireTime(r.Created), Modified: wireTime(r.Modified), LastUsed: wireTime(r.LastUsed),
	}
	if r.Type == jobs.ResourceFiles {
		out.Signature = r.Signature
	}
	if b := r.Build; b != nil {
		out.PythonEnvInfo = &PythonEnvInfo{StatusReason: b.StatusReason, SizeMB: b.SizeMB, BuildDurationSeconds: b.BuildDurationSeconds,
			NumberOfFiles: b.NumberOfFiles, NumberOfPackages: b.NumberOfPackages}
	}
	if r.Files != nil {
		out.Files = make([]File, len(r.Files))
		for i, f := range r.Files {
			out.Files[i] = wireFile(f)
		}
	}
	return out
}

// ResourceList is the answer of GET /resources.
type ResourceList struct {
	Resources []Resource `json:"resources"`
	Meta      Meta       `json:"meta"`
}

// BasicCredential is the secret of a basic credential.
type BasicCredential struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// CredentialInput is the body of POST /credentials.
type CredentialInput struct {
	Name                     string            `json:"name"`
	Type                     string            `json:"type"`
	Description              string            `json:"description"`
	WorkloadCred             map[string]string `json:"workloadCred"`
	Basic                    *BasicCredential  `json:"basic"`
	SkipCredentialValidation bool              `json:"skipCredentialValidation"`
}

func (in CredentialInput) domain() jobs.NewCredential {
	out := jobs.NewCredential{Name: in.Name, Type: in.Type, Description: in.Description, Secret: jobs.Secret{Values: in.WorkloadCred}}
	if in.Basic != nil {
		out.Secret.Username, out.Secret.Password = in.Basic.Username, in.Basic.Password
	}
	return out
}

// CredentialPatch is the body of PATCH /credentials/{name}.
type CredentialPatch struct {
	Description  *string           `json:"description"`
	WorkloadCred map[string]string `json:"workloadCred"`
	Basic        *BasicCredential  `json:"basic"`
}

func (in CredentialPatch) domain() jobs.CredentialUpdate {
	out := jobs.CredentialUpdate{Description: in.Description, Values: in.WorkloadCred}
	if in.Basic != nil {
		out.Basic = &jobs.Secret{Username: in.Basic.Username, Password: in.Basic.Password}
	}
	return out
}

// Credential is a credential on the wire: never its values.
type Credential struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Created     string `json:"created"`
	Modified    string `json:"modified"`
}

func wireCredential(c jobs.Credential) Credential {
	return Credential{Name: c.Name, Type: c.Type, Description: c.Description, Created: wireTime(c.Created), Modified: wireTime(c.Modified)}
}

// CredentialList is the answer of GET /credentials.
type CredentialList struct {
	Credentials []Credential `json:"credentials"`
	Meta        Meta         `json:"meta"`
}

// Info is the answer of GET /info.
type Info struct {
	AppName       string `json:"appName"`
	AppID         string `json:"appId"`
	ClusterID     string `json:"clusterID"`
	Version       string `json:"version"`
	CDEConsoleURL string `json:"cdeConsoleURL"`
}

// PythonEnvInfo is the build of a python-env resource on the wire.
type PythonEnvInfo struct {
	StatusReason         string  `json:"statusReason"`
	SizeMB               float64 `json:"sizeMb"`
	BuildDurationSeconds float64 `json:"buildDurationSeconds"`
	NumberOfFiles        int     `json:"numberOfFiles"`
	NumberOfPackages     int     `json:"numberOfPackages"`
}

// RunInput is the optional body of POST /jobs/{name}/run. user is accepted
// and ignored (the Airflow hook sends null): a run is the caller's.
type RunInput struct {
	Overrides *struct {
		Spark json.RawMessage `json:"spark"`
	} `json:"overrides"`
	Variables map[string]string `json:"variables"`
	User      *string           `json:"user"`
	RequestID string            `json:"requestID"`
	Hidden    bool              `json:"hidden"`
}

func (in RunInput) domain() jobs.RunRequest {
	out := jobs.RunRequest{Variables: in.Variables, RequestID: in.RequestID, Hidden: in.Hidden}
	if in.Overrides != nil {
		out.SparkOverrides = in.Overrides.Spark
	}
	return out
}

// RunID is the answer of POST /jobs/{name}/run.
type RunID struct {
	ID int64 `json:"id"`
}

// Run is a job run on the wire: CDE's fields, then Herd's (requestID,
// exitCode, statusReason, logTail, created).
type Run struct {
	ID                       int64             `json:"id"`
	Job                      string            `json:"job"`
	Type                     string            `json:"type"`
	Status                   string            `json:"status"`
	User                     string            `json:"user"`
	Started                  string            `json:"started"`
	Ended                    string            `json:"ended"`
	Mounts                   []jobs.Mount      `json:"mounts"`
	RuntimeImageResourceName string            `json:"runtimeImageResourceName,omitempty"`
	WorkloadCredentials      []string          `json:"workloadCredentials,omitempty"`
	Variables                map[string]string `json:"variables,omitempty"`
	Spark                    *RunSpark         `json:"spark,omitempty"`
	Identity                 Identity          `json:"identity"`
	RequestID                string            `json:"requestID,omitempty"`
	ExitCode                 *int              `json:"exitCode,omitempty"`
	StatusReason             string            `json:"statusReason,omitempty"`
	LogTail                  string            `json:"logTail,omitempty"`
	ProcessStarted           string            `json:"processStarted,omitempty"`
}

// RunSpark is the Spark part of a run: the effective spec and, once known,
// the Spark application.
type RunSpark struct {
	SparkAppID  string      `json:"sparkAppID"`
	SparkAppURL string      `json:"sparkAppURL"`
	Spec        *jobs.Spark `json:"spec"`
}

// Identity is the identity a run ran as. Herd runs every run as the
// server's own user; no role is proxied.
type Identity struct {
	DisableRoleProxy bool   `json:"disableRoleProxy"`
	Role             string `json:"role"`
}

func wireRun(r jobs.Run) Run {
	out := Run{
		ID: r.ID, Job: r.Job, Type: r.Type, Status: r.Status, User: r.User,
		Started: wireTime(r.Created), Ended: wireTime(r.Ended),
		Mounts: r.Spec.Mounts, RuntimeImageResourceName: r.Spec.RuntimeImageResourceName,
		WorkloadCredentials: r.Spec.WorkloadCredentials, Variables: r.Spec.Variables,
		Identity:  Identity{DisableRoleProxy: true, Role: "instance"},
		RequestID: r.RequestID, ExitCode: r.ExitCode, StatusReason: r.Reason, LogTail: r.LogTail,
	}
	if !r.Started.IsZero() {
		out.ProcessStarted = wireTime(r.Started)
	}
	if r.Spec.Spark != nil {
		out.Spark = &RunSpark{SparkAppID: r.SparkAppID, SparkAppURL: r.SparkAppURL, Spec: r.Spec.Spark}
	}
	return out
}

// RunList is the answer of GET /job-runs.
type RunList struct {
	Runs []Run `json:"runs"`
	Meta Meta  `json:"meta"`
}

// LogType is an entry of GET /job-runs/{id}/log-types.
type LogType struct {
	Type string `json:"type"`
}
