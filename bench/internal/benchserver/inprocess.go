package benchserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/herdhq/herd/internal/config"
	"github.com/herdhq/herd/internal/server"
)

// InProcess is a herd server running in the benchmark's own process, on a
// free loopback port, logging nowhere.
type InProcess struct {
	URL      string // http://127.0.0.1:port
	Password string // of admin
	cancel   context.CancelFunc
	done     chan error
	stopOnce sync.Once
	stopErr  error
}

// StartInProcess starts a server with cfg (its Addr is replaced by a free
// loopback port) and waits until it has written its admin password.
func StartInProcess(cfg config.Config) (*InProcess, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler), server.Options{Listener: ln, Stderr: io.Discard})
	if err != nil {
		cancel()
		ln.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &InProcess{URL: "http://" + ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Run(ctx) }()
	pw, err := os.ReadFile(filepath.Join(cfg.DataDir, server.InitialPasswordFile))
	if err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("read admin password: %w", err)
	}
	s.Password = strings.TrimSpace(string(pw))
	return s, nil
}

// Stop shuts the server down and returns how its Run ended; calling it
// again returns the same.
func (s *InProcess) Stop() error {
	s.stopOnce.Do(func() {
		s.cancel()
		s.stopErr = <-s.done
	})
	return s.stopErr
}
