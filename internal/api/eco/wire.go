package eco

import (
	"encoding/json"
	"time"
)

// The answers below keep the key names and the key order of KakaoCloud's
// documentation. Times are epoch milliseconds (Millis, OptionalMillis).
//
// What has no value is written in one of two ways:
//   - A value that does not exist yet is null: runningAt before the cluster
//     first reaches Running. The key is always there, as in KakaoCloud's
//     list examples, so clients can read it without a presence check.
//   - A value that does not apply to this cluster or VM is left out: a VM
//     without a public address has no floatingIp key (the documentation's
//     VM list examples show exactly that), and so on for the URLs of
//     components the cluster does not run, the optional blocks (userTask,
//     hiveDbInfo, dataCatalogInfo, redisInfo) when they were not asked for,
//     and their optional strings when empty.
//
// Lists are never null: a cluster without security groups or VMs of a
// kind has [] (MarshalJSON sees to that), as does an empty page.

// Millis is t as epoch milliseconds.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// OptionalMillis is t as epoch milliseconds, or nil (null) for the zero
// time.
func OptionalMillis(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

// ClusterStatus is the answer of create, delete, scale-out and scale-in.
type ClusterStatus struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// Cluster is the answer of GET /v2/hadoop-eco/clusters/{cluster-id}.
type Cluster struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Owner          string `json:"owner"`
	ClusterType    string `json:"clusterType"`
	ClusterVersion string `json:"clusterVersion"`
	IsHA           bool   `json:"isHa"`
	IsScalable     bool   `json:"isScalable"`
	Status         string `json:"status"`
	APIKeyStatus   string `json:"apiKeyStatus"` // impossible, possible or applied
	MasterCnt      int    `json:"masterCnt"`
	WorkerCnt      int    `json:"workerCnt"`
	NodeCnt        int    `json:"nodeCnt"`
	VpcID          string `json:"vpcId"`
	SubnetID       string `json:"subnetId"`
	// SecurityGroupIDs are the groups the VMs are in, the one created for
	// a securityGroupName included.
	SecurityGroupIDs   []string         `json:"securityGroupIds"`
	KeypairName        string           `json:"keypairName"`
	Monitoring         bool             `json:"monitoring"`
	ImageName          string           `json:"imageName"`
	NameNodeURL        string           `json:"nameNodeUrl,omitempty"`
	ResourceManagerURL string           `json:"resourceManagerUrl,omitempty"`
	HueURL             string           `json:"hueUrl,omitempty"`
	HMasterURL         string           `json:"hmasterUrl,omitempty"`
	TrinoURL           string           `json:"trinoUrl,omitempty"`
	DruidURL           string           `json:"druidUrl,omitempty"`
	SupersetURL        string           `json:"supersetUrl,omitempty"`
	CreatedAt          int64            `json:"createdAt"`
	RunningAt          *int64           `json:"runningAt"`     // null until first Running
	ElapsedTime        int64            `json:"elapsedTime"`   // ms up since runningAt, to termination
	TotalVMUptime      int64            `json:"totalVmUptime"` // ms, summed over the VMs
	MasterInfo         []NodeInfo       `json:"masterInfo"`
	WorkerInfo         []NodeInfo       `json:"workerInfo"`
	AdminInfo          AdminInfo        `json:"adminInfo"`
	Config             ClusterConfig    `json:"config"`
	UserTask           *UserTask        `json:"userTask,omitempty"`
	HiveDBInfo         *HiveDBInfo      `json:"hiveDbInfo,omitempty"`
	DataCatalogInfo    *DataCatalogInfo `json:"dataCatalogInfo,omitempty"`
	RedisInfo          *RedisInfo       `json:"redisInfo,omitempty"`
	// Reason is Herd's addition: why the cluster ended Terminated(Error),
	// or why its last scale failed.
	Reason string `json:"reason,omitempty"`
}

// clusterJSON is Cluster without its MarshalJSON.
type clusterJSON Cluster

// MarshalJSON writes c with [] for its nil lists.
func (c Cluster) MarshalJSON() ([]byte, error) {
	c.SecurityGroupIDs = nonNil(c.SecurityGroupIDs)
	c.MasterInfo = nonNil(c.MasterInfo)
	c.WorkerInfo = nonNil(c.WorkerInfo)
	return json.Marshal(clusterJSON(c))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// NodeInfo is one entry of masterInfo or workerInfo: a kind of node.
type NodeInfo struct {
	FlavorID   string `json:"flavorId"`
	FlavorName string `json:"flavorName"`
	VolumeSize int    `json:"volumeSize"` // GB
}

// AdminInfo names the Hue and Superset account: the one asked for at
// create, or the IAM account's. The password is never shown.
type AdminInfo struct {
	UserID string `json:"userId"`
}

// ClusterConfig is the config block of a cluster.
type ClusterConfig struct {
	HDFSBlockSize   int    `json:"hdfsBlockSize"` // MB
	HDFSReplication int    `json:"hdfsReplication"`
	ConfigText      string `json:"configText,omitempty"` // Base64, as sent
	ConfigFileURL   string `json:"configFileUrl,omitempty"`
}

// UserTask is the task the cluster runs once Running.
type UserTask struct {
	Type              string `json:"type"`
	TerminationPolicy string `json:"terminationPolicy"`
	FileURL           string `json:"fileUrl,omitempty"`
	HiveQuery         string `json:"hiveQuery,omitempty"`
	DeployMode        string `json:"deployMode,omitempty"`
	ExecOpts          string `json:"execOpts,omitempty"`
	ExecParams        string `json:"execParams,omitempty"`
	LogBucketName     string `json:"logBucketName,omitempty"`
	LogURL            string `json:"logUrl,omitempty"`
	// Status is Herd's addition: Running, Succeeded or Failed.
	Status string `json:"status,omitempty"`
}

// HiveDBInfo is the MySQL metastore the cluster uses.
type HiveDBInfo struct {
	ObjectID string `json:"objectId"`
	SubnetID string `json:"subnetId,omitempty"`
	Name     string `json:"name,omitempty"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	DBName   string `json:"dbName"`
	UserID   string `json:"userId"`
}

// DataCatalogInfo is the data catalog the cluster uses.
type DataCatalogInfo struct {
	MetastoreURI string `json:"metastoreUri,omitempty"`
	CatalogID    string `json:"catalogId"`
	CatalogName  string `json:"catalogName,omitempty"`
	VpcID        string `json:"vpcId,omitempty"`
	VpcName      string `json:"vpcName,omitempty"`
	SubnetID     string `json:"subnetId,omitempty"`
	SubnetName   string `json:"subnetName,omitempty"`
}

// RedisInfo is the Redis the cluster's Superset uses.
type RedisInfo struct {
	ObjectID            string `json:"objectId"`
	Name                string `json:"name,omitempty"`
	SubnetID            string `json:"subnetId,omitempty"`
	PrimaryEndpoint     string `json:"primaryEndpoint,omitempty"`
	ReadEndpoint        string `json:"readEndpoint,omitempty"`
	ClusterEnabled      bool   `json:"clusterEnabled"`
	Port                int    `json:"port,omitempty"`
	DBIDSupersetCelery  int    `json:"dbIdSupersetCelery"`
	DBIDSupersetResults int    `json:"dbIdSupersetResults"`
}

// ClusterItem is one cluster of GET /v2/hadoop-eco/clusters.
type ClusterItem struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	Status         string `json:"status"`
	Owner          string `json:"owner"`
	ClusterType    string `json:"clusterType"`
	ClusterVersion string `json:"clusterVersion"`
	IsScalable     bool   `json:"isScalable"`
	APIKeyStatus   string `json:"apiKeyStatus"`
	MasterCnt      int    `json:"masterCnt"`
	WorkerCnt      int    `json:"workerCnt"`
	NodeCnt        int    `json:"nodeCnt"`
	CreatedAt      int64  `json:"createdAt"`
	RunningAt      *int64 `json:"runningAt"` // null until first Running
	ElapsedTime    int64  `json:"elapsedTime"`
}

// VM is one VM of GET /v2/hadoop-eco/clusters/{cluster-id}/vms.
type VM struct {
	Name       string `json:"name"` // HadoopMST-<cluster>-<index> or HadoopWRK-<cluster>-<index>
	InstanceID string `json:"instanceId"`
	Index      int    `json:"index"`
	IsMaster   bool   `json:"isMaster"`
	Status     string `json:"status"`
	FlavorName string `json:"flavorName"`
	IP         string `json:"ip"`
	FloatingIP string `json:"floatingIp,omitempty"`
	CreatedAt  int64  `json:"createdAt"`
}

// Page is a Spring Data page, the shape of every list.
type Page[T any] struct {
	Content          []T      `json:"content"`
	Pageable         Pageable `json:"pageable"`
	TotalPages       int      `json:"totalPages"`
	TotalElements    int      `json:"totalElements"`
	Last             bool     `json:"last"`
	Size             int      `json:"size"`
	Number           int      `json:"number"`
	Sort             Sort     `json:"sort"`
	NumberOfElements int      `json:"numberOfElements"`
	First            bool     `json:"first"`
	Empty            bool     `json:"empty"`
}

// pageJSON is Page without its MarshalJSON.
type pageJSON[T any] Page[T]

// MarshalJSON writes p with [] for a nil Content.
func (p Page[T]) MarshalJSON() ([]byte, error) {
	p.Content = nonNil(p.Content)
	return json.Marshal(pageJSON[T](p))
}

// Pageable is the request a Page answers.
type Pageable struct {
	PageNumber int  `json:"pageNumber"`
	PageSize   int  `json:"pageSize"`
	Sort       Sort `json:"sort"`
	Offset     int  `json:"offset"`
	Paged      bool `json:"paged"`
	Unpaged    bool `json:"unpaged"`
}

// Sort says whether a page is sorted.
type Sort struct {
	Empty    bool `json:"empty"`
	Sorted   bool `json:"sorted"`
	Unsorted bool `json:"unsorted"`
}

// NewPage is page q.Page of q.Size items, holding content out of total,
// with every field computed as Spring Data's PageImpl does it:
//   - offset is page × size; totalPages is ⌈total / size⌉;
//   - first is page 0, last is no page after this one (page+1 ≥
//     totalPages), empty is no content;
//   - a non-empty page that reaches past total raises total to offset +
//     len(content), as PageImpl corrects a stale count;
//   - sort is sorted when q has at least one sort order.
//
// content nil is written as [].
func NewPage[T any](content []T, q ListQuery, total int) Page[T] {
	content = nonNil(content)
	offset := q.Page * q.Size
	if len(content) > 0 && offset+q.Size > total {
		total = offset + len(content)
	}
	totalPages := 1
	if q.Size > 0 {
		totalPages = (total + q.Size - 1) / q.Size
	}
	sorted := len(q.Sort) > 0
	sort := Sort{Empty: !sorted, Sorted: sorted, Unsorted: !sorted}
	return Page[T]{
		Content: content,
		Pageable: Pageable{
			PageNumber: q.Page, PageSize: q.Size, Sort: sort, Offset: offset, Paged: true, Unpaged: false,
		},
		TotalPages:       totalPages,
		TotalElements:    total,
		Last:             q.Page+1 >= totalPages,
		Size:             q.Size,
		Number:           q.Page,
		Sort:             sort,
		NumberOfElements: len(content),
		First:            q.Page == 0,
		Empty:            len(content) == 0,
	}
}
