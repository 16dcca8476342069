package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/herdhq/herd/internal/auth"
	"github.com/herdhq/herd/internal/auth/password"
	"github.com/herdhq/herd/internal/server"
	"github.com/herdhq/herd/internal/server/servertest"
)

// benchServer returns the handler of a server with the production password
// cost, without a network listener: the benchmarks measure Herd's own work
// per request, not the kernel's.
func benchServer(b *testing.B) (http.Handler, *server.Server) {
	b.Helper()
	cfg := servertest.TestConfig(filepath.Join(b.TempDir(), "data"))
	cfg.PasswordMemoryKiB = password.DefaultParams.MemoryKiB
	cfg.PasswordIterations = password.DefaultParams.Iterations
	cfg.PasswordParallelism = password.DefaultParams.Parallelism
	srv, err := server.New(context.Background(), cfg, slog.New(slog.DiscardHandler), server.Options{Stderr: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	if _, err := srv.Auth().CreateUser(context.Background(), auth.Principal{User: "admin", Role: auth.RoleAdmin}, "bench", "bench-password-1", auth.RoleUser); err != nil {
		b.Fatal(err)
	}
	return srv.Handler(), srv
}

func serve(b *testing.B, h http.Handler, r *http.Request) {
	b.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", r.Method, r.URL, w.Code, w.Body)
	}
}

// GET /gateway/authtkn/knoxtoken/api/v1/token with Basic, as `curl -u` does,
// through the whole handler chain. A client repeating its Basic login hits
// the password cache; see BenchmarkIssueTokenBasic for the first login.
func BenchmarkHTTPTokenBasic(b *testing.B) {
	h, _ := benchServer(b)
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/gateway/authtkn/knoxtoken/api/v1/token", nil)
		r.SetBasicAuth("bench", "bench-password-1")
		return r
	}
	serve(b, h, req())
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, req())
	}
}

// A Bearer-authenticated API call (GET /herd/v1/whoami) through the whole
// handler chain: the per-request cost of JWT authentication plus a trivial
// handler.
func BenchmarkHTTPBearerRequest(b *testing.B) {
	h, srv := benchServer(b)
	tok, err := srv.Auth().IssueAccessToken(auth.Principal{User: "bench"}, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodGet, "/herd/v1/whoami", nil)
		r.Header.Set("Authorization", "Bearer "+tok.Token)
		serve(b, h, r)
	}
}
