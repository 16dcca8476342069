package servertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/hostprovider/local"

	"github.com/herdhq/herd/internal/config"
	"github.com/herdhq/herd/internal/server"
	"github.com/herdhq/herd/internal/testutil"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu   sync.Mutex
	t    time.Time
	wall bool
}

// NewClock returns a clock set to t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// WallClock returns a clock that follows the real time, for tests with
// clients that date their own requests; Advance cannot move it.
func WallClock() *Clock { return &Clock{wall: true} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	if c.wall {
		return time.Now().UTC()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	if c.wall {
		panic("servertest: Advance on a wall clock")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Env is a running server.
type Env struct {
	URL           string
	DataDir       string
	AdminPassword string
	Clock         *Clock
	Server        *server.Server
	Config        config.Config
	Banner        string // what the server printed on stderr at start

	stop func()
	logs *testutil.SyncBuffer
}

// Logs returns everything the server logged so far, at debug level.
func (e *Env) Logs() string { return e.logs.String() }

// Option changes the configuration of a test server: a
// func(*config.Config), or ServerOption for server.Options.
type Option any

// ServerOption changes the server options of a test server.
type ServerOption func(*server.Options)

// WithDataDir starts the server on an existing data directory.
func WithDataDir(dir string) Option { return func(c *config.Config) { c.DataDir = dir } }

// WithTLS serves HTTPS with the given PEM certificate and key files.
func WithTLS(certFile, keyFile string) Option {
	return func(c *config.Config) { c.TLSCert, c.TLSKey = certFile, keyFile }
}

// WithVMAgentCommand sets how the local host provider starts VM agents.
func WithVMAgentCommand(f func(local.AgentArgs) *exec.Cmd) Option {
	return ServerOption(func(o *server.Options) { o.VMAgentCommand = f })
}

// TestConfig is the configuration test servers start from: cheap password
// hashing, the project's .venv as the Spark runtime, a short kill grace, no
// local host agent, otherwise the defaults.
func TestConfig(dataDir string) config.Config {
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.PasswordMemoryKiB = 8 * 1024
	cfg.PasswordIterations = 1
	cfg.PasswordParallelism = 1
	cfg.SparkVenv = filepath.Join(ModuleRoot(), ".venv")
	cfg.RunKillGrace = 3 * time.Second
	cfg.LocalAgent = false
	return cfg
}

// WithLocalAgent runs the server's own host agent, on the given address.
func WithLocalAgent(address string) Option {
	return func(c *config.Config) { c.LocalAgent, c.LocalAgentAddress = true, address }
}

// ModuleRoot is the directory of the go.mod above the working directory
// (a test's package directory), or "." when there is none.
func ModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "."
		}
		dir = parent
	}
}

// Start runs a server until the test ends. The clock starts at the real
// current time.
func Start(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	return StartWithClock(tb, NewClock(time.Now().UTC()), opts...)
}

// StartWithClock runs a server with the given clock until the test ends.
func StartWithClock(tb testing.TB, clock *Clock, opts ...Option) *Env {
	tb.Helper()
	cfg := TestConfig(filepath.Join(tb.TempDir(), "data"))
	var sopts server.Options
	for _, o := range opts {
		switch o := o.(type) {
		case func(*config.Config):
			o(&cfg)
		case ServerOption:
			o(&sopts)
		default:
			tb.Fatalf("servertest: option of type %T", o)
		}
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var banner bytes.Buffer
	logs := &testutil.SyncBuffer{}
	log := slog.New(slog.NewMultiHandler(
		slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}),
		slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}),
	))
	sopts.Now, sopts.Stderr, sopts.Listener = clock.Now, &banner, ln
	srv, err := server.New(context.Background(), cfg, log, sopts)
	if err != nil {
		ln.Close()
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	env := &Env{
		URL: scheme + "://" + ln.Addr().String(), DataDir: cfg.DataDir, Clock: clock, Server: srv, Config: cfg, Banner: banner.String(),
		logs: logs,
	}
	var once sync.Once
	env.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("server stopped with error: %v", err)
			}
		})
	}
	tb.Cleanup(env.stop)
	pw, err := os.ReadFile(filepath.Join(cfg.DataDir, server.InitialPasswordFile))
	if err != nil {
		tb.Fatalf("read initial admin password: %v", err)
	}
	env.AdminPassword = strings.TrimSpace(string(pw))
	env.waitReady(tb)
	return env
}

// Stop shuts the server down (also done at the end of the test).
func (e *Env) Stop() { e.stop() }

func (e *Env) waitReady(tb testing.TB) {
	tb.Helper()
	// Readiness only: the tests check certificates themselves.
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // see above
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(e.URL + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatal("server did not become ready")
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
