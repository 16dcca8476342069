package eco

// Spec is a validated request to create a cluster, in domain terms: Base64
// fields decoded, aliases resolved, defaults filled.
type Spec struct {
	Name           string
	ClusterType    string // "hadoop", "dataflow", ...
	ClusterVersion string // e.g. "hde-2.0.1"
	IsHA           bool
	KeypairName    string
	Master         NodeGroup // Count is 1, or 3 with IsHA
	Worker         NodeGroup
	Monitoring     bool
	// Exactly one of SecurityGroupIDs and SecurityGroupName is set.
	SecurityGroupIDs  []string
	SecurityGroupName string
	VpcID, SubnetID   string
	Admin             *Admin // nil: the IAM account is used

	HDFSReplication int
	HDFSBlockSizeMB int
	// ConfigText is the decoded configText (JSON); Configurations is what
	// it holds, or what ConfigFileURL will hold once fetched.
	ConfigText     string
	ConfigFileURL  string
	Configurations []Configuration
	// UserScript is the decoded userScript; UserScriptFileURL the
	// script's URL instead.
	UserScript        []byte
	UserScriptFileURL string

	Task        *UserTask
	HiveDB      *HiveDB
	DataCatalog *DataCatalog
	Redis       *Redis
}

// NodeGroup is the masters or the workers.
type NodeGroup struct {
	Count      int
	FlavorName string
	VolumeGB   int
}

// Admin is the Hue and Superset account.
type Admin struct {
	UserID   string
	Password string // decoded
}

// Configuration is one classification of configText.
type Configuration struct {
	Classification string            // core-site, hdfs-site, hadoop-env, spark-defaults, spark-env, user-env:<user>
	Properties     map[string]string // for user-env: "env"
}

// UserTask is the task run once the cluster is Running.
type UserTask struct {
	Type              string // hive or spark
	TerminationPolicy string // never, onSuccess, always
	FileURL           string
	HiveQuery         string
	DeployMode        string // cluster or client (spark)
	ExecOpts          string
	ExecParams        string
	LogBucketName     string
}

// HiveDB is an external MySQL metastore.
type HiveDB struct {
	ObjectID, DBName, UserID string
	Password                 string // decoded
}

// DataCatalog is a data catalog to integrate.
type DataCatalog struct {
	CatalogID string
}

// Redis is a Redis to integrate (for Superset).
type Redis struct {
	ObjectID                                string
	DBIDSupersetCelery, DBIDSupersetResults int
}
