//go:build linux

package benchserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Default timeouts of Config.
const (
	DefaultReadyTimeout = time.Minute
	DefaultStopTimeout  = 10 * time.Second
)

// Build builds ./cmd/herd of the module in dir (the working directory
// when empty) into the binary out.
func Build(ctx context.Context, dir, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/herd")
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build herd: %w\n%s", err, bytes.TrimSpace(b))
	}
	return nil
}

// Config says how to start a server.
type Config struct {
	// Bin is the herd binary; required.
	Bin string
	// Dir holds the server's data directory, Dir/data, and its log,
	// Dir/server.log; required. It must exist.
	Dir string
	// Args are the flags of `herd server` after --addr and --data-dir,
	// such as --local-agent=false.
	Args []string
	// WorkDir is the server's working directory; the caller's when empty.
	WorkDir string
	// ReadyTimeout bounds the wait for /readyz to answer 200;
	// DefaultReadyTimeout when zero.
	ReadyTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL;
	// DefaultStopTimeout when zero.
	StopTimeout time.Duration
}

// Server is a herd server process.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:<port>.
	URL string
	// DataDir is its --data-dir.
	DataDir string
	// LogPath is the file its standard output and error go to.
	LogPath string

	cmd         *exec.Cmd
	stopTimeout time.Duration
	done        chan struct{} // closed once the process has exited
	exitErr     error         // how it exited, once done is closed
}

// Start starts herd server on a free loopback port and waits until it is
// ready. When it does not get ready, the server is stopped and the error
// holds the tail of its log.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Bin == "" || cfg.Dir == "" {
		return nil, errors.New("start herd server: Bin and Dir are required")
	}
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{
		URL: "http://" + addr, DataDir: filepath.Join(cfg.Dir, "data"), LogPath: filepath.Join(cfg.Dir, "server.log"),
		stopTimeout: cfg.StopTimeout, done: make(chan struct{}),
	}
	if s.stopTimeout <= 0 {
		s.stopTimeout = DefaultStopTimeout
	}
	logf, err := os.Create(s.LogPath)
	if err != nil {
		return nil, fmt.Errorf("create server log: %w", err)
	}
	defer logf.Close()
	args := append([]string{"server", "--addr", addr, "--data-dir", s.DataDir}, cfg.Args...)
	s.cmd = exec.Command(cfg.Bin, args...)
	s.cmd.Dir = cfg.WorkDir
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// Its own process group keeps a terminal's Ctrl-C away from it (the
	// benchmark stops it); Pdeathsig kills it if the benchmark dies.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start herd server: %w", err)
	}
	go func() {
		s.exitErr = s.cmd.Wait()
		close(s.done)
	}()
	limit := cfg.ReadyTimeout
	if limit <= 0 {
		limit = DefaultReadyTimeout
	}
	if err := s.waitReady(ctx, limit); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (s *Server) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/readyz", http.NoBody)
		if err != nil {
			return fmt.Errorf("build readiness request: %w", err)
		}
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait for server: not ready after %s\n%s", limit, s.LogTail(20))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for server: %w", ctx.Err())
		case <-s.done:
			return fmt.Errorf("wait for server: %w", s.Exited())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Pid returns the server's process ID.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done is closed once the server process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Exited describes how the server ended, with the tail of its log; call
// it once Done is closed.
func (s *Server) Exited() error {
	err := s.exitErr
	if err == nil {
		err = errors.New("exit status 0")
	}
	return fmt.Errorf("server exited: %w\n%s", err, s.LogTail(20))
}

// Stop ends the server, SIGTERM and then, after the stop timeout, SIGKILL,
// and returns once it has exited. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(s.stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// AdminPassword returns the password of the user admin, which the server
// writes to <data-dir>/initial-admin-password on its first start.
func (s *Server) AdminPassword() (string, error) {
	b, err := os.ReadFile(filepath.Join(s.DataDir, "initial-admin-password"))
	if err != nil {
		return "", fmt.Errorf("read admin password: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// LogTail returns the last n lines of the server's log, after a line
// "server log:".
func (s *Server) LogTail(n int) string {
	b, _ := os.ReadFile(s.LogPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return "server log:\n" + strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// LogSummary counts the warnings and errors in the server's log and quotes
// the first one.
func (s *Server) LogSummary() string {
	f, err := os.Open(s.LogPath)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	defer f.Close()
	var warns, errs int
	var first string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "level=WARN"):
			warns++
		case strings.Contains(line, "level=ERROR"):
			errs++
		default:
			continue
		}
		if first == "" {
			first = line
		}
	}
	out := fmt.Sprintf("%d warnings, %d errors", warns, errs)
	if first != "" {
		out += "; first: " + first
	}
	return out
}
