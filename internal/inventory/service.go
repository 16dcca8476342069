package inventory

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/herdhq/herd/internal/agentapi"
	"github.com/herdhq/herd/internal/apperr"
	"github.com/herdhq/herd/internal/servicetype"
	"github.com/herdhq/herd/internal/store"
)

// Config tunes the service.
type Config struct {
	HeartbeatInterval time.Duration // what agents are told; 2s by default
	TTL               time.Duration // a host silent this long is down; 10s by default
	Now               func() time.Time
	NewID             func() string
	Logger            *slog.Logger
}

// Service is the inventory.
type Service struct {
	db      *store.DB
	catalog *servicetype.Catalog
	cfg     Config
	log     *slog.Logger

	// Inventory writes bump gen and wake desired-state waiters.
	desired broadcast
	// Agent reports wake command steps that wait for roles.
	reports broadcast

	mu      sync.Mutex
	live    map[string]*liveHost // host id -> what its agent last said
	secrets map[string][]byte    // host id -> secret hash, a cache

	// snapMu serialises snapshot builds; snap is the latest, lastGood the
	// last spec each role rendered to (both guarded by snapMu).
	snapMu   sync.Mutex
	snap     *snapshot
	lastGood map[string]agentapi.RoleSpec

	cmds commandEngine
}

// New returns the inventory service.
func New(db *store.DB, catalog *servicetype.Catalog, cfg Config) *Service {
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = 2 * time.Second
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 5 * cfg.HeartbeatInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = uuid.NewString
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: db, catalog: catalog, cfg: cfg, log: cfg.Logger,
		live: map[string]*liveHost{}, secrets: map[string][]byte{},
		lastGood: map[string]agentapi.RoleSpec{}}
	s.desired.init()
	s.reports.init()
	s.cmds.init()
	return s
}

// Catalog returns the service type catalog.
func (s *Service) Catalog() *servicetype.Catalog { return s.catalog }

// write runs fn in a transaction and, on success, tells desired-state
// waiters that the inventory changed.
func (s *Service) write(ctx context.Context, fn func(*store.Queries) error) error {
	err := s.db.InTx(ctx, fn)
	if err == nil {
		s.desired.bump()
	}
	return err
}

// broadcast wakes every waiter when bumped.
type broadcast struct {
	mu  sync.Mutex
	gen uint64
	ch  chan struct{}
}

func (b *broadcast) init() { b.ch = make(chan struct{}) }

func (b *broadcast) bump() {
	b.mu.Lock()
	b.gen++
	close(b.ch)
	b.ch = make(chan struct{})
	b.mu.Unlock()
}

// wait returns the current generation and a channel closed at the next bump.
func (b *broadcast) wait() (uint64, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gen, b.ch
}

// notFound maps the store's not-found to an API error naming what.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(apperr.NotFound, format, args...)
	}
	return err
}

func conflict(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrConflict) {
		return apperr.New(apperr.Conflict, format, args...)
	}
	return err
}
