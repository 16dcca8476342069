package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/blobstore"
	"github.com/herdhq/herd/internal/config"
	"github.com/herdhq/herd/internal/eco"
	"github.com/herdhq/herd/internal/fileutil"
	"github.com/herdhq/herd/internal/hostprovider/local"
	"github.com/herdhq/herd/internal/inventory"
	"github.com/herdhq/herd/internal/jobs"
	"github.com/herdhq/herd/internal/keyring"
	"github.com/herdhq/herd/internal/runner"
	"github.com/herdhq/herd/internal/servicetype"
	"github.com/herdhq/herd/internal/sparkrt"
	"github.com/herdhq/herd/internal/store"
)

// InitialPasswordFile is the file, in the data directory, that receives the
// first admin password.
const InitialPasswordFile = "initial-admin-password"

// Options are the parts a caller (usually a test) may replace.
type Options struct {
	Now      func() time.Time // clock
	NewID    func() string    // id source
	Stderr   io.Writer        // where the first admin password is printed; os.Stderr if nil
	Listener net.Listener     // listen here instead of on cfg.Addr
	Version  string           // reported by the APIs
	// Executable is the program that wraps run processes: the herd binary
	// (os.Executable if empty), or a test binary that calls
	// runner.MaybeWrapper first in TestMain.
	Executable string
	// VMAgentCommand builds the command of a local-provider VM's host
	// agent; `<Executable> agent ...` when nil (tests replace it).
	VMAgentCommand func(local.AgentArgs) *exec.Cmd
}

// Server is a Herd control-plane server.
type Server struct {
	cfg  config.Config
	log  *slog.Logger
	db   *store.DB
	auth *auth.Service
	jobs *jobs.Service
	inv  *inventory.Service
	eco  *eco.Service
	now  func() time.Time
	// onShutdown runs when shutdown begins (ends long polls).
	onShutdown []func()
	exe        string
	certDER    []byte // the TLS certificate, when serving HTTPS
	ln         net.Listener
	http       *http.Server
	unlock     func()
	version    string
	ready      atomic.Bool
	closing    sync.Once
}

// New opens the data directory and store, prepares the auth service (first
// start: master key, signing key, admin user) and binds the listener.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (_ *Server, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	// Everything that can be checked without side effects comes first.
	var certDER []byte
	var tlsConf *tls.Config
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		certDER = cert.Certificate[0]
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s := &Server{cfg: cfg, log: log, version: opts.Version, certDER: certDER, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	defer func() {
		if err != nil {
			s.release()
		}
	}()
	if err := prepareDataDir(cfg.DataDir, log); err != nil {
		return nil, err
	}
	if s.unlock, err = fileutil.LockDir(cfg.DataDir, "server", "herd server"); err != nil {
		return nil, err
	}
	kr, err := keyring.Load(cfg.DataDir, cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	if s.db, err = store.Open(ctx, filepath.Join(cfg.DataDir, "herd.db")); err != nil {
		return nil, err
	}
	s.auth, err = auth.New(ctx, s.db, kr, auth.Config{
		Issuer:           cfg.TokenIssuer,
		TokenTTL:         cfg.TokenTTL,
		WorkloadTokenTTL: cfg.WorkloadTokenTTL,
		SessionTTL:       cfg.SessionTTL,
		SignatureWindow:  cfg.SignatureWindow,
		Password:         cfg.PasswordParams(),
		Now:              opts.Now,
		NewID:            opts.NewID,
		Logger:           log,
	})
	if err != nil {
		return nil, err
	}
	if err := s.bootstrap(ctx, opts.Stderr); err != nil {
		return nil, err
	}
	blobs, err := blobstore.Open(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		return nil, err
	}
	exe := opts.Executable
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find the herd binary: %w", err)
		}
	}
	s.jobs, err = jobs.New(ctx, s.db, kr, blobs, jobs.Config{
		MaxUploadBytes:     cfg.MaxUploadBytes,
		Now:                opts.Now,
		Logger:             log,
		DataDir:            cfg.DataDir,
		Runtime:            s.sparkRuntime(ctx),
		Runner:             runner.New(exe, log.With("component", "runner")),
		DefaultSparkMaster: cfg.SparkMaster,
		MaxConcurrentRuns:  cfg.MaxConcurrentRuns,
		KillGrace:          cfg.RunKillGrace,
		EndedRunTTL:        cfg.EndedRunTTL,
	})
	if err != nil {
		return nil, err
	}
	catalog, err := servicetype.Load()
	if err != nil {
		return nil, err
	}
	s.exe = exe
	s.inv = inventory.New(s.db, catalog, inventory.Config{
		HeartbeatInterval: cfg.HeartbeatInterval,
		TTL:               cfg.HostTTL,
		Now:               opts.Now,
		NewID:             opts.NewID,
		Logger:            log.With("component", "inventory"),
	})
	s.ln = opts.Listener
	if s.ln == nil {
		if s.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
	}
	provider, err := local.New(local.Config{Dir: filepath.Join(cfg.DataDir, "vms"), Executable: exe, AgentCommand: opts.VMAgentCommand,
		Now: opts.Now, Logger: log.With("component", "local-provider")})
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(s.ln.Addr().(*net.TCPAddr).Port)
	extra, err := eco.ParseFlavors(cfg.EcoFlavors)
	if err != nil {
		return nil, fmt.Errorf("eco-flavors: %w", err)
	}
	flavors := maps.Clone(eco.DefaultFlavors)
	maps.Copy(flavors, extra) // the configured ones win
	s.eco = eco.New(s.db, s.inv, eco.Config{
		Provider: provider, Flavors: flavors, Keyring: kr, Now: opts.Now, NewID: opts.NewID, Logger: log,
		// The local provider's agents reach the server over loopback.
		ServerURL: func() string { return "http://127.0.0.1:" + port },
		SparkHome: func(ctx context.Context) (string, error) {
			rt, err := sparkrt.Discover(ctx, sparkrt.Config{Venv: cfg.SparkVenv, SparkHome: cfg.SparkHome})
			return rt.Home, err
		},
		TaskDir: filepath.Join(cfg.DataDir, "eco-tasks"), ObjectStoreDir: filepath.Join(cfg.DataDir, "objectstore"),
	})
	if tlsConf != nil {
		s.ln = tls.NewListener(s.ln, tlsConf)
	}
	s.http = &http.Server{
		Handler:           s.routes(certDER),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	for _, f := range s.onShutdown {
		s.http.RegisterOnShutdown(f)
	}
	return s, nil
}

// sparkRuntime finds the Spark runtime now, saying what is missing when it
// cannot, and returns how runs get it: the runtime found, or a new search
// (at most every few seconds), so that one installed later is picked up.
func (s *Server) sparkRuntime(ctx context.Context) func() (sparkrt.Runtime, error) {
	c := sparkrt.Config{SparkHome: s.cfg.SparkHome, Python: s.cfg.SparkPython, Venv: s.cfg.SparkVenv}
	var (
		mu    sync.Mutex
		rt    sparkrt.Runtime
		err   error
		found bool
		last  time.Time
	)
	discover := func() {
		last = time.Now()
		if rt, err = sparkrt.Discover(context.WithoutCancel(ctx), c); err == nil {
			found = true
			s.log.Info("spark runtime", "spark_home", rt.Home, "spark_version", rt.SparkVersion, "java", rt.Java, "java_version", rt.JavaVersion, "python", rt.Python)
		}
	}
	discover()
	if err != nil {
		s.log.Warn("no usable Spark runtime; job runs fail until one is installed", "err", err)
	}
	return func() (sparkrt.Runtime, error) {
		mu.Lock()
		defer mu.Unlock()
		if !found && time.Since(last) > 5*time.Second {
			discover()
		}
		return rt, err
	}
}

// prepareDataDir creates the data directory, or narrows an existing one to
// its owner: it holds the database with password hashes and the master key.
func prepareDataDir(dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("stat data directory: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict data directory %s (mode %v) to its owner: %w", dir, perm, err)
		}
		log.Warn("data directory was open to other users; restricted it to mode 0700", "dir", dir, "was", perm.String())
	}
	return nil
}

// bootstrap creates the admin user on first start, writes its password to
// the data directory and prints it once.
func (s *Server) bootstrap(ctx context.Context, out io.Writer) error {
	path := filepath.Join(s.cfg.DataDir, InitialPasswordFile)
	var pw string
	created, err := s.auth.Bootstrap(ctx, func(p string) error {
		pw = p
		return fileutil.WriteFileAtomic(path, []byte(p+"\n"), 0o600)
	})
	if err != nil {
		return err
	}
	if created {
		s.log.Info("created user admin; its password is in the data directory", "file", path)
		fmt.Fprintf(out, "\nHerd created the first user.\n\n    user:     admin\n    password: %s\n\n"+
			"The password is also in %s (mode 0600).\nChange it with: herd user passwd admin\n\n", pw, path)
	}
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Auth returns the auth service, for in-process callers such as tests.
func (s *Server) Auth() *auth.Service { return s.auth }

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Run serves until ctx ends, then stops accepting requests, lets the ones
// in flight finish (up to the shutdown timeout) and closes the store.
func (s *Server) Run(ctx context.Context) error {
	defer s.release()
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	// Runs live when the server last stopped are settled before any
	// request can act on them.
	if err := s.jobs.Recover(ctx); err != nil {
		return err
	}
	// Likewise commands: none is executing any more.
	if err := s.inv.RunCommands(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.sweepLoop(ctx) })
	wg.Go(func() { s.jobs.Run(ctx) })
	wg.Go(func() {
		if err := s.eco.Run(ctx); err != nil {
			s.log.Error("hadoop eco clusters", "err", err)
		}
	})
	defer s.inv.WaitCommands()

	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	s.ready.Store(true)
	s.log.Info("herd server listening", "addr", s.Addr().String(), "data_dir", s.cfg.DataDir, "tls", s.cfg.TLSCert != "")
	if s.cfg.LocalAgent {
		wg.Go(func() { s.runLocalAgent(ctx) })
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("serve: %w", err)
	}
	s.ready.Store(false)
	stop()
	s.log.Info("herd server shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if serr := s.http.Shutdown(shutdownCtx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, fmt.Errorf("shut down HTTP server: %w", serr))
	}
	wg.Wait()
	s.log.Info("herd server stopped")
	return err
}

// release closes the store and the data-directory lock, once.
func (s *Server) release() {
	s.closing.Do(func() {
		if s.db != nil {
			if err := s.db.Close(); err != nil {
				s.log.Error("close store", "err", err)
			}
		}
		if s.unlock != nil {
			s.unlock()
		}
	})
}

// Close releases what New took, for a server that will not Run.
func (s *Server) Close() error {
	if s.ln != nil {
		s.ln.Close()
	}
	s.release()
	return nil
}

const sweepInterval = time.Minute

// sweepLoop deletes expired auth records and keeps the database's planner
// statistics current, every minute.
func (s *Server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.auth.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("sweep expired auth records", "err", err)
			}
			if err := s.db.Optimize(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("optimize database", "err", err)
			}
		}
	}
}
