package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/blobstore"
	"github.com/herdhq/herd/internal/keyring"
	"github.com/herdhq/herd/internal/runner"
	"github.com/herdhq/herd/internal/sparkrt"
	"github.com/herdhq/herd/internal/store"
)

// DefaultVC is the id of the virtual cluster served at /dex/api/v1.
const DefaultVC = "default"

// Config holds the service's settings.
type Config struct {
	MaxUploadBytes int64            // largest resource file accepted
	Now            func() time.Time // clock; time.Now if nil
	Logger         *slog.Logger

	// DataDir holds runs (runs/<id>) and built Python environments
	// (pyenvs/<vc>/<name>/<hash>).
	DataDir string
	// Runtime returns the Spark runtime runs use, or why there is none.
	// It is asked at each launch, so a runtime installed later is found.
	Runtime func() (sparkrt.Runtime, error)
	// Runner starts run processes; nil disables running (runs stay
	// queued and python-envs stay unbuilt).
	Runner *runner.Runner
	// MaxConcurrentRuns caps the runs that are live at once; more wait.
	MaxConcurrentRuns int
	// KillGrace is how long a killed run has between SIGTERM and SIGKILL.
	KillGrace time.Duration
	// DefaultSparkMaster, when set, is the master of the default virtual
	// cluster.
	DefaultSparkMaster string
	// EndedRunTTL is how long a run of a delete_after_run job is kept
	// after it ends; its working files go when it ends.
	EndedRunTTL time.Duration
	// HTTPClient reads executor logs from Spark workers; nil means one
	// with a 30 s timeout per request.
	HTTPClient *http.Client
}

// Service is the jobs domain service.
type Service struct {
	db        *store.DB
	kr        *keyring.Keyring
	blobs     *blobstore.Store
	cfg       Config
	log       *slog.Logger
	dispatch  *dispatcher
	buildWake chan struct{}

	// vcIDs caches the ids of the virtual clusters for the jobs API's
	// per-request lookup; nil until loaded, dropped (under vcMu, after
	// the commit) when a cluster is created or deleted.
	vcMu  sync.Mutex
	vcIDs atomic.Pointer[map[string]bool]
}

// New returns the service. It makes sure the default virtual cluster
// exists and removes blobs no file refers to (left by a crash).
func New(ctx context.Context, db *store.DB, kr *keyring.Keyring, blobs *blobstore.Store, cfg Config) (*Service, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxConcurrentRuns <= 0 {
		cfg.MaxConcurrentRuns = 2
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = 10 * time.Second
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Runtime == nil {
		cfg.Runtime = func() (sparkrt.Runtime, error) { return sparkrt.Runtime{}, errors.New("no Spark runtime configured") }
	}
	if cfg.DefaultSparkMaster != "" {
		if err := ValidateMaster(cfg.DefaultSparkMaster); err != nil {
			return nil, fmt.Errorf("new jobs service: %w", err)
		}
	}
	s := &Service{db: db, kr: kr, blobs: blobs, cfg: cfg, log: cfg.Logger.With("component", "jobs"), buildWake: make(chan struct{}, 1)}
	s.dispatch = newDispatcher(s)
	if err := db.InTx(ctx, func(q *store.Queries) error {
		if err := q.EnsureVirtualCluster(ctx, store.VirtualClusterRow{ID: DefaultVC, Name: "default", CreatedAt: s.now()}); err != nil {
			return err
		}
		if cfg.DefaultSparkMaster == "" {
			return nil
		}
		return q.SetVirtualClusterMaster(ctx, DefaultVC, cfg.DefaultSparkMaster)
	}); err != nil {
		return nil, fmt.Errorf("new jobs service: %w", err)
	}
	used, err := db.Read().BlobIDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("new jobs service: %w", err)
	}
	n, err := blobs.Sweep(func(id string) bool { return used[id] })
	if err != nil {
		return nil, fmt.Errorf("new jobs service: %w", err)
	}
	if n > 0 {
		s.log.Info("removed unreferenced resource files", "count", n)
	}
	return s, nil
}

// Recover re-attaches the runs that were live when the server last
// stopped and records the end of those that ended meanwhile. Call it
// before serving requests and before Run; the runs it re-attaches are
// watched until ctx ends.
func (s *Service) Recover(ctx context.Context) error {
	if s.cfg.Runner == nil {
		return nil
	}
	if err := s.recoverRuns(ctx); err != nil {
		return fmt.Errorf("recover runs: %w", err)
	}
	return nil
}

// Run runs the service's background work until ctx ends: it starts
// waiting runs, fires schedules, builds Python environments and applies
// run retention. Without a Runner it only fires schedules (their runs
// wait).
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	if s.cfg.Runner != nil {
		wg.Go(func() { s.dispatch.loop(ctx) })
		wg.Go(func() { s.buildLoop(ctx) })
	}
	wg.Go(func() { s.schedulerLoop(ctx) })
	wg.Go(func() { s.retentionLoop(ctx) })
	<-ctx.Done()
}

// every calls fn now, then whenever woken (wake may be nil) and at least
// every interval, until ctx ends.
func every(ctx context.Context, interval time.Duration, wake <-chan struct{}, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Millisecond) }

// VirtualCluster is a scope for jobs, resources and credentials.
type VirtualCluster struct {
	ID          string
	Name        string
	SparkMaster string // where its runs go, e.g. local[*]
	CreatedAt   time.Time
}

// VirtualCluster returns a virtual cluster.
func (s *Service) VirtualCluster(ctx context.Context, id string) (VirtualCluster, error) {
	vc, err := s.db.Read().GetVirtualCluster(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return VirtualCluster{}, apperr.New(apperr.NotFound, "virtual cluster %q not found", id)
	}
	if err != nil {
		return VirtualCluster{}, err
	}
	return VirtualCluster(vc), nil
}

func requireWrite(p auth.Principal) error {
	if !p.CanWrite() {
		return apperr.New(apperr.Forbidden, "user %q is read-only", p.User)
	}
	return nil
}

// notFound turns a store ErrNotFound into a NotFound error naming the object.
func notFound(err error, kind, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(apperr.NotFound, "%s %q not found", kind, name)
	}
	return err
}

// inUse is the 409 for deleting something jobs still refer to.
func inUse(ctx context.Context, q *store.Queries, vc string, ref store.Ref) error {
	names, total, err := q.JobsReferring(ctx, vc, ref, 10)
	if err != nil || total == 0 {
		return err
	}
	more := ""
	if total > len(names) {
		more = fmt.Sprintf(" and %d more", total-len(names))
	}
	return apperr.New(apperr.Conflict, "%s %q is used by job(s) %s%s; change or delete them first", ref.Kind, ref.Name, joinQuoted(names), more)
}

func joinQuoted(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += quote(n)
	}
	return out
}
