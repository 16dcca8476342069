package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/herdhq/herd/internal/agent"
)

// runLocalAgent runs the host agent of the server's own machine in the
// server's process, talking to the server over loopback like any agent. Its
// role processes outlive the server (they are re-attached at the next
// start). A short-lived host token is issued for its registration.
func (s *Server) runLocalAgent(ctx context.Context) {
	tok, err := s.inv.CreateHostToken(ctx, "herd", "local agent of the server", 10*time.Minute)
	if err != nil {
		s.log.Error("local agent: issue host token", "err", err)
		return
	}
	port := s.Addr().(*net.TCPAddr).Port
	scheme := "http"
	client := &http.Client{}
	if s.cfg.TLSCert != "" {
		scheme = "https"
		own := s.certDER
		client.Transport = &http.Transport{TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: true, //nolint:gosec // the server's own certificate is pinned below
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 || !bytes.Equal(raw[0], own) {
					return errors.New("local agent: the server did not present its own certificate")
				}
				return nil
			},
		}}
	}
	hostname, _ := os.Hostname()
	a, err := agent.New(agent.Config{
		ServerURL:  scheme + "://127.0.0.1:" + strconv.Itoa(port),
		Token:      tok.Secret,
		Address:    s.cfg.LocalAgentAddress,
		Hostname:   hostname,
		DataDir:    filepath.Join(s.cfg.DataDir, "agent"),
		Executable: s.exe,
		HTTPClient: client,
		Logger:     s.log.With("component", "local-agent"),
		HadoopHome: s.cfg.HadoopHome,
		SparkHome:  s.cfg.SparkHome,
		SparkVenv:  s.cfg.SparkVenv,
		Version:    s.version,
	})
	if err != nil {
		s.log.Error("local agent", "err", err)
		return
	}
	if err := a.Run(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("local agent stopped", "err", err)
	}
}
