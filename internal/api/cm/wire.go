package cm

import (
	"time"

	"github.com/herdhq/herd/internal/inventory"
	"github.com/herdhq/herd/internal/store"
)

// timeFormat is CM's: UTC with exactly three fraction digits (cm_api parses
// "%Y-%m-%dT%H:%M:%S.%fZ").
const timeFormat = "2006-01-02T15:04:05.000Z"

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

type list[T any] struct {
	Items []T `json:"items"`
}

type clusterRef struct {
	ClusterName string `json:"clusterName"`
}

type serviceRef struct {
	ClusterName string `json:"clusterName"`
	ServiceName string `json:"serviceName"`
}

type roleRef struct {
	ClusterName string `json:"clusterName"`
	ServiceName string `json:"serviceName"`
	RoleName    string `json:"roleName"`
}

type hostRef struct {
	HostID string `json:"hostId"`
}

type groupRef struct {
	RoleConfigGroupName string `json:"roleConfigGroupName"`
}

type healthCheck struct {
	Name        string `json:"name"`
	Summary     string `json:"summary"`
	Explanation string `json:"explanation,omitempty"`
	Suppressed  *bool  `json:"suppressed,omitempty"`
}

type apiCluster struct {
	Name              string   `json:"name"`
	DisplayName       string   `json:"displayName,omitempty"`
	Version           string   `json:"version"`
	FullVersion       string   `json:"fullVersion,omitempty"`
	MaintenanceMode   bool     `json:"maintenanceMode"`
	MaintenanceOwners []string `json:"maintenanceOwners"`
	ClusterURL        string   `json:"clusterUrl,omitempty"`
	HostsURL          string   `json:"hostsUrl,omitempty"`
	EntityStatus      string   `json:"entityStatus,omitempty"`
	UUID              string   `json:"uuid,omitempty"`
}

type apiService struct {
	Name                        string        `json:"name"`
	Type                        string        `json:"type"`
	DisplayName                 string        `json:"displayName,omitempty"`
	ClusterRef                  clusterRef    `json:"clusterRef"`
	ServiceState                string        `json:"serviceState,omitempty"`
	HealthSummary               string        `json:"healthSummary,omitempty"`
	HealthChecks                []healthCheck `json:"healthChecks"`
	ConfigStale                 bool          `json:"configStale"`
	ConfigStalenessStatus       string        `json:"configStalenessStatus,omitempty"`
	ClientConfigStalenessStatus string        `json:"clientConfigStalenessStatus,omitempty"`
	ServiceURL                  string        `json:"serviceUrl,omitempty"`
	RoleInstancesURL            string        `json:"roleInstancesUrl,omitempty"`
	MaintenanceMode             bool          `json:"maintenanceMode"`
	MaintenanceOwners           []string      `json:"maintenanceOwners"`
	EntityStatus                string        `json:"entityStatus,omitempty"`
}

type apiRole struct {
	Name                  string        `json:"name"`
	Type                  string        `json:"type"`
	HostRef               hostRef       `json:"hostRef"`
	ServiceRef            serviceRef    `json:"serviceRef"`
	RoleState             string        `json:"roleState,omitempty"`
	HealthSummary         string        `json:"healthSummary,omitempty"`
	HealthChecks          []healthCheck `json:"healthChecks"`
	ConfigStale           bool          `json:"configStale"`
	ConfigStalenessStatus string        `json:"configStalenessStatus,omitempty"`
	HaStatus              string        `json:"haStatus,omitempty"`
	RoleURL               string        `json:"roleUrl,omitempty"`
	CommissionState       string        `json:"commissionState,omitempty"`
	MaintenanceMode       bool          `json:"maintenanceMode"`
	MaintenanceOwners     []string      `json:"maintenanceOwners"`
	RoleConfigGroupRef    *groupRef     `json:"roleConfigGroupRef,omitempty"`
	EntityStatus          string        `json:"entityStatus,omitempty"`
}

type apiHost struct {
	HostID            string        `json:"hostId"`
	Hostname          string        `json:"hostname"`
	IPAddress         string        `json:"ipAddress"`
	RackID            string        `json:"rackId,omitempty"`
	LastHeartbeat     string        `json:"lastHeartbeat,omitempty"`
	RoleRefs          []roleRef     `json:"roleRefs"`
	HealthSummary     string        `json:"healthSummary,omitempty"`
	HealthChecks      []healthCheck `json:"healthChecks"`
	HostURL           string        `json:"hostUrl,omitempty"`
	CommissionState   string        `json:"commissionState,omitempty"`
	MaintenanceMode   bool          `json:"maintenanceMode"`
	MaintenanceOwners []string      `json:"maintenanceOwners"`
	NumCores          int           `json:"numCores,omitempty"`
	NumPhysicalCores  int           `json:"numPhysicalCores,omitempty"`
	TotalPhysMemBytes int64         `json:"totalPhysMemBytes,omitempty"`
	EntityStatus      string        `json:"entityStatus,omitempty"`
	ClusterRef        *clusterRef   `json:"clusterRef,omitempty"`
}

type apiGroup struct {
	Name        string          `json:"name"`
	DisplayName string          `json:"displayName,omitempty"`
	RoleType    string          `json:"roleType"`
	Base        bool            `json:"base"`
	ServiceRef  serviceRef      `json:"serviceRef"`
	Config      list[apiConfig] `json:"config"`
}

// apiConfig is ApiConfig; the summary view carries name and value only.
type apiConfig struct {
	Name                         string  `json:"name"`
	Value                        *string `json:"value,omitempty"`
	Required                     *bool   `json:"required,omitempty"`
	Default                      *string `json:"default,omitempty"`
	DisplayName                  string  `json:"displayName,omitempty"`
	Description                  string  `json:"description,omitempty"`
	RelatedName                  *string `json:"relatedName,omitempty"`
	ValidationState              string  `json:"validationState,omitempty"`
	ValidationMessage            string  `json:"validationMessage,omitempty"`
	ValidationWarningsSuppressed *bool   `json:"validationWarningsSuppressed,omitempty"`
	Sensitive                    *bool   `json:"sensitive,omitempty"`
}

type apiServiceConfig struct {
	Items           []apiConfig      `json:"items"`
	RoleTypeConfigs []roleTypeConfig `json:"roleTypeConfigs,omitempty"`
}

type roleTypeConfig struct {
	RoleType string      `json:"roleType"`
	Items    []apiConfig `json:"items"`
}

type apiCommand struct {
	ID            int64             `json:"id"`
	Name          string            `json:"name"`
	StartTime     string            `json:"startTime,omitempty"`
	EndTime       string            `json:"endTime,omitempty"`
	Active        bool              `json:"active"`
	Success       *bool             `json:"success,omitempty"`
	ResultMessage string            `json:"resultMessage,omitempty"`
	ClusterRef    *clusterRef       `json:"clusterRef,omitempty"`
	ServiceRef    *serviceRef       `json:"serviceRef,omitempty"`
	RoleRef       *roleRef          `json:"roleRef,omitempty"`
	HostRef       *hostRef          `json:"hostRef,omitempty"`
	Parent        *apiCommand       `json:"parent,omitempty"`
	Children      *list[apiCommand] `json:"children,omitempty"`
	CanRetry      *bool             `json:"canRetry,omitempty"`
}

type bulkCommands struct {
	Errors []string     `json:"errors"`
	Items  []apiCommand `json:"items"`
}

type apiUser struct {
	Name     string   `json:"name"`
	Password string   `json:"password,omitempty"`
	Roles    []string `json:"roles"`
}

func wireCommand(c store.CommandRow) apiCommand {
	a := apiCommand{ID: c.ID, Name: c.Name, StartTime: ts(c.StartedAt), EndTime: ts(c.EndedAt), Active: c.Active,
		Success: c.Success, ResultMessage: c.ResultMessage}
	if c.Cluster != "" {
		a.ClusterRef = &clusterRef{c.Cluster}
	}
	if c.Service != "" {
		a.ServiceRef = &serviceRef{c.Cluster, c.Service}
	}
	if c.Role != "" {
		a.RoleRef = &roleRef{c.Cluster, c.Service, c.Role}
	}
	if c.HostID != "" {
		a.HostRef = &hostRef{c.HostID}
	}
	return a
}

func wireFullCommand(c inventory.Command) apiCommand {
	a := wireCommand(c.CommandRow)
	if c.Parent != nil {
		p := wireCommand(*c.Parent)
		a.Parent = &p
	}
	kids := list[apiCommand]{Items: []apiCommand{}}
	for _, k := range c.Children {
		kids.Items = append(kids.Items, wireCommand(k))
	}
	a.Children = &kids
	return a
}

func checks(h inventory.Health) []healthCheck {
	out := make([]healthCheck, 0, len(h.Checks))
	for _, c := range h.Checks {
		out = append(out, healthCheck{Name: c.Name, Summary: c.Summary, Explanation: c.Explanation})
	}
	return out
}

// entityStatus maps a state and health to ApiEntityStatus.
func entityStatus(state, health string) string {
	switch state {
	case inventory.StateStopped:
		return "STOPPED"
	case inventory.StateStarting:
		return "STARTING"
	case inventory.StateStopping:
		return "STOPPING"
	case inventory.StateUnknown:
		return "UNKNOWN"
	}
	switch health {
	case inventory.HealthGood:
		return "GOOD_HEALTH"
	case inventory.HealthConcerning:
		return "CONCERNING_HEALTH"
	case inventory.HealthBad:
		return "BAD_HEALTH"
	case inventory.HealthDisabled:
		return "DISABLED_HEALTH"
	}
	return "UNKNOWN_HEALTH"
}

func staleness(stale bool) string {
	if stale {
		return "STALE"
	}
	return "FRESH"
}
