package eco

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/hostprovider"
	"github.com/herdhq/herd/internal/inventory"
	"github.com/herdhq/herd/internal/keyring"
	"github.com/herdhq/herd/internal/store"
)

// Cluster statuses, as the Hadoop Eco API spells them.
const (
	StatusInitializing    = "Initializing"
	StatusInstalling      = "Installing"
	StatusRunning         = "Running"
	StatusTerminating     = "Terminating"
	StatusTerminatedUser  = "Terminated(User)"
	StatusTerminatedError = "Terminated(Error)"
)

// VM statuses.
const (
	VMCreating = "Creating"
	VMRunning  = "Running"
	VMDeleting = "Deleting"
	VMDeleted  = "Deleted"
)

// Config tunes the service.
type Config struct {
	Provider hostprovider.Provider
	Flavors  hostprovider.Flavors
	// ServerURL is how agents on the provider's VMs reach this server.
	ServerURL func() string
	Keyring   *keyring.Keyring
	Now       func() time.Time
	NewID     func() string
	Logger    *slog.Logger
	// SparkHome finds the Spark runtime user tasks run with.
	SparkHome func(ctx context.Context) (string, error)
	// TaskDir holds files tasks fetch; ObjectStoreDir is the local object
	// store task logs go to (<bucket>/HadoopEco/<cluster>/...).
	TaskDir, ObjectStoreDir string
	// JoinTimeout bounds the wait for a new VM's agent to register;
	// ReadyTimeout the wait from the start command to every role GOOD.
	JoinTimeout, ReadyTimeout time.Duration
}

// DefaultFlavors are the flavors the local provider knows: KakaoCloud's
// m2a family (cores and memory as in its catalogue), scaled to what the
// role processes get.
var DefaultFlavors = hostprovider.Flavors{
	"m2a.large":   {Name: "m2a.large", Cores: 2, MemoryBytes: 8 << 30},
	"m2a.xlarge":  {Name: "m2a.xlarge", Cores: 4, MemoryBytes: 16 << 30},
	"m2a.2xlarge": {Name: "m2a.2xlarge", Cores: 8, MemoryBytes: 32 << 30},
	"m2a.4xlarge": {Name: "m2a.4xlarge", Cores: 16, MemoryBytes: 64 << 30},
	"r2a.xlarge":  {Name: "r2a.xlarge", Cores: 4, MemoryBytes: 32 << 30},
	"c2a.xlarge":  {Name: "c2a.xlarge", Cores: 4, MemoryBytes: 8 << 30},
}

// Service runs Hadoop Eco clusters on a host provider, as clusters of the
// cluster manager (inventory).
type Service struct {
	db  *store.DB
	inv *inventory.Service
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	base    context.Context // set by Run; changes run under it
	working map[string]bool // cluster ids with a change goroutine
	wg      sync.WaitGroup
}

// New returns the service; Run starts its work.
func New(db *store.DB, inv *inventory.Service, cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = uuid.NewString
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Flavors == nil {
		cfg.Flavors = DefaultFlavors
	}
	if cfg.JoinTimeout == 0 {
		cfg.JoinTimeout = time.Minute
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 5 * time.Minute
	}
	return &Service{db: db, inv: inv, cfg: cfg, log: cfg.Logger.With("component", "eco"), working: map[string]bool{}}
}

// Cluster is a cluster with its spec and VMs.
type Cluster struct {
	store.EcoClusterRow
	Spec Spec
	VMs  []store.EcoVMRow // all, deleted ones too
	// TaskLogURL is where the user task's log is, once it has ended.
	TaskLogURL string
}

// LiveVMs returns the VMs that are not deleted, masters first.
func (c Cluster) LiveVMs() []store.EcoVMRow {
	var out []store.EcoVMRow
	for _, v := range c.VMs {
		if v.Status != VMDeleted {
			out = append(out, v)
		}
	}
	return out
}

// Terminated reports whether the cluster has ended.
func (c Cluster) Terminated() bool { return strings.HasPrefix(c.Status, "Terminated") }

// Run resumes what the last server left in flight and then serves until
// ctx ends, when it waits for changes in flight to stop.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	s.base = ctx
	s.mu.Unlock()
	if err := s.recover(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	s.wg.Wait()
	return nil
}

// recover settles clusters a previous server left in flight: provisioning
// cannot be resumed where it stopped (its goroutine's waits are gone), so
// it ends Terminated(Error) with its VMs removed; a deletion goes on; the
// VMs of running clusters get their agents back if they died.
func (s *Service) recover(ctx context.Context) error {
	rows, err := s.db.Read().ListEcoClusters(ctx, false)
	if err != nil {
		return err
	}
	for _, r := range rows {
		switch r.Status {
		case StatusInitializing, StatusInstalling:
			s.start(r.ID, func(ctx context.Context) {
				s.fail(ctx, r.ID, errors.New("the server restarted while the cluster was "+strings.ToLower(r.Status)+"; provisioning does not resume"))
			})
		case StatusTerminating:
			s.start(r.ID, func(ctx context.Context) { s.teardown(ctx, r.ID, StatusTerminatedUser, "") })
		case StatusRunning:
			c, err := s.get(ctx, s.db.Read(), r.ID)
			if err != nil {
				return err
			}
			for _, v := range c.LiveVMs() {
				if err := s.cfg.Provider.Check(ctx, v.InstanceID); err != nil {
					s.log.Warn("VM of a running cluster is not there", "cluster", c.Name, "vm", v.Name, "err", err)
				}
			}
			if r.Changing {
				s.start(r.ID, func(ctx context.Context) { s.settleScale(ctx, r.ID) })
			}
		}
	}
	return nil
}

// start runs fn for a cluster in a goroutine under the service's context;
// one at a time per cluster.
func (s *Service) start(id string, fn func(ctx context.Context)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.working[id] || s.base == nil {
		return false
	}
	s.working[id] = true
	ctx := s.base
	s.wg.Go(func() {
		defer func() {
			s.mu.Lock()
			delete(s.working, id)
			s.mu.Unlock()
		}()
		fn(ctx)
	})
	return true
}

// sealContext binds a cluster's sealed secrets to it.
func sealContext(id string) string { return "eco-cluster:" + id }

// secrets are the parts of a Spec kept sealed.
type secrets struct {
	AdminPassword  string `json:"adminPassword,omitempty"`
	HiveDBPassword string `json:"hiveDbPassword,omitempty"`
}

// Create checks a request against what the provider can do, records the
// cluster and its VMs, and starts provisioning.
func (s *Service) Create(ctx context.Context, owner string, spec Spec) (Cluster, error) {
	if err := s.supported(spec); err != nil {
		return Cluster{}, err
	}
	if err := resolveFiles(ctx, &spec); err != nil {
		return Cluster{}, err
	}
	if _, err := s.inv.GetCluster(ctx, spec.Name); err == nil {
		return Cluster{}, apperr.New(apperr.Conflict, "a cluster named %q already exists", spec.Name)
	}
	now := s.cfg.Now()
	id := s.cfg.NewID()
	var sec secrets
	if spec.Admin != nil {
		sec.AdminPassword, spec.Admin.Password = spec.Admin.Password, ""
	}
	if spec.HiveDB != nil {
		sec.HiveDBPassword, spec.HiveDB.Password = spec.HiveDB.Password, ""
	}
	specJSON, _ := json.Marshal(spec)
	var sealed []byte
	if sec != (secrets{}) {
		plain, _ := json.Marshal(sec)
		var err error
		if sealed, err = s.cfg.Keyring.Seal(sealContext(id), plain); err != nil {
			return Cluster{}, fmt.Errorf("seal cluster secrets: %w", err)
		}
	}
	row := store.EcoClusterRow{ID: id, Name: spec.Name, Owner: owner, Status: StatusInitializing, Spec: string(specJSON), Secrets: sealed,
		WorkerCnt: spec.Worker.Count, Changing: true, CreatedAt: now, UpdatedAt: now}
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		if err := q.InsertEcoCluster(ctx, row); err != nil {
			return err
		}
		for i := 1; i <= spec.Master.Count; i++ {
			if err := q.InsertEcoVM(ctx, s.newVM(id, spec.Name, true, i, spec.Master, now)); err != nil {
				return err
			}
		}
		for i := 1; i <= spec.Worker.Count; i++ {
			if err := q.InsertEcoVM(ctx, s.newVM(id, spec.Name, false, i, spec.Worker, now)); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrConflict) {
		return Cluster{}, apperr.New(apperr.Conflict, "a cluster named %q already exists and is not terminated", spec.Name)
	}
	if err != nil {
		return Cluster{}, err
	}
	s.log.Info("cluster accepted", "cluster", spec.Name, "id", id, "masters", spec.Master.Count, "workers", spec.Worker.Count)
	if !s.start(id, func(ctx context.Context) { s.provision(ctx, id) }) {
		return Cluster{}, errors.New("create cluster: the service is not running")
	}
	return s.Get(ctx, id)
}

func (s *Service) newVM(clusterID, name string, master bool, idx int, g NodeGroup, now time.Time) store.EcoVMRow {
	kind := "WRK"
	if master {
		kind = "MST"
	}
	return store.EcoVMRow{InstanceID: s.cfg.NewID(), ClusterID: clusterID, Name: fmt.Sprintf("Hadoop%s-%s-%d", kind, name, idx), Index: idx,
		IsMaster: master, Flavor: g.FlavorName, VolumeGB: g.VolumeGB, Status: VMCreating, CreatedAt: now}
}

// supported refuses what the provider cannot honour, rather than accept
// and ignore it.
func (s *Service) supported(spec Spec) error {
	var no []string
	if spec.IsHA {
		no = append(no, "isHa: NameNode high availability (three masters) is not supported by the "+s.cfg.Provider.Name()+" host provider yet; set isHa to false")
	}
	if spec.ClusterType != "hadoop" {
		no = append(no, fmt.Sprintf("clusterType %q: only \"hadoop\" (HDFS and Spark) can be run yet", spec.ClusterType))
	}
	if spec.HiveDB != nil {
		no = append(no, "hiveDbInfo: an external MySQL metastore cannot be reached from this installation; leave it out (Hive tasks use Spark SQL's own metastore)")
	}
	if spec.DataCatalog != nil {
		no = append(no, "dataCatalogInfo: data catalog integration is not available in this installation")
	}
	if spec.Redis != nil {
		no = append(no, "redisInfo: Redis integration (for Superset) is not available in this installation")
	}
	for _, g := range []struct{ what, name string }{{"masterFlavorName", spec.Master.FlavorName}, {"workerFlavorName", spec.Worker.FlavorName}} {
		if _, ok := s.cfg.Flavors[g.name]; !ok {
			no = append(no, fmt.Sprintf("%s %q is not a known flavor; known: %s", g.what, g.name, strings.Join(s.flavorNames(), ", ")))
		}
	}
	if len(no) > 0 {
		return apperr.New(apperr.Invalid, "%s", strings.Join(no, "; "))
	}
	return nil
}

func (s *Service) flavorNames() []string {
	names := make([]string, 0, len(s.cfg.Flavors))
	for n := range s.cfg.Flavors {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Get returns a cluster.
func (s *Service) Get(ctx context.Context, id string) (Cluster, error) {
	return s.get(ctx, s.db.Read(), id)
}

func (s *Service) get(ctx context.Context, q *store.Queries, id string) (Cluster, error) {
	row, err := q.GetEcoCluster(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Cluster{}, apperr.New(apperr.NotFound, "cluster %s not found", id)
	}
	if err != nil {
		return Cluster{}, err
	}
	vms, err := q.ListEcoVMs(ctx, id)
	if err != nil {
		return Cluster{}, err
	}
	return s.cluster(row, vms)
}

// cluster puts a cluster together from its rows.
func (s *Service) cluster(row store.EcoClusterRow, vms []store.EcoVMRow) (Cluster, error) {
	c := Cluster{EcoClusterRow: row, VMs: vms}
	if err := json.Unmarshal([]byte(row.Spec), &c.Spec); err != nil {
		return Cluster{}, fmt.Errorf("read cluster %s: %w", row.ID, err)
	}
	if row.TaskLog != "" {
		c.TaskLogURL = "file://" + filepath.Join(s.cfg.ObjectStoreDir, row.TaskLog)
	}
	return c, nil
}

// List returns the clusters, oldest first.
func (s *Service) List(ctx context.Context, includeTerminated bool) ([]Cluster, error) {
	q := s.db.Read()
	rows, err := q.ListEcoClusters(ctx, includeTerminated)
	if err != nil {
		return nil, err
	}
	all, err := q.ListAllEcoVMs(ctx)
	if err != nil {
		return nil, err
	}
	vms := map[string][]store.EcoVMRow{}
	for _, v := range all {
		vms[v.ClusterID] = append(vms[v.ClusterID], v)
	}
	out := make([]Cluster, 0, len(rows))
	for _, r := range rows {
		c, err := s.cluster(r, vms[r.ID])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Delete starts the termination of a cluster.
func (s *Service) Delete(ctx context.Context, id string) (Cluster, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return c, err
	}
	switch {
	case c.Terminated():
		return c, apperr.New(apperr.Invalid, "cluster %s is already %s", c.Name, c.Status)
	case c.Status == StatusTerminating:
		return c, nil
	case c.Changing:
		return c, apperr.New(apperr.Invalid, "cluster %s is %s with a change in flight; delete it when that ends", c.Name, c.Status)
	}
	if err := s.setStatus(ctx, id, func(r *store.EcoClusterRow) { r.Status, r.Changing = StatusTerminating, true }); err != nil {
		return c, err
	}
	s.start(id, func(ctx context.Context) { s.teardown(ctx, id, StatusTerminatedUser, "") })
	return s.Get(ctx, id)
}

// setStatus changes a cluster's row under a transaction.
func (s *Service) setStatus(ctx context.Context, id string, change func(*store.EcoClusterRow)) error {
	return s.db.InTx(context.WithoutCancel(ctx), func(q *store.Queries) error {
		r, err := q.GetEcoCluster(ctx, id)
		if err != nil {
			return err
		}
		change(&r)
		r.UpdatedAt = s.cfg.Now()
		return q.UpdateEcoCluster(ctx, r)
	})
}

func (s *Service) updateVM(ctx context.Context, v store.EcoVMRow) error {
	return s.db.InTx(context.WithoutCancel(ctx), func(q *store.Queries) error { return q.UpdateEcoVM(ctx, v) })
}
