package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/runner"
)

// The test binary doubles as herd: with HERD_TEST_RUN_MAIN=1 it runs main,
// so these tests drive the real command without a separate build.
func TestMain(m *testing.M) {
	runner.MaybeWrapper()
	if os.Getenv("HERD_TEST_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// lockedText is a string builder safe for one writer and many readers.
type lockedText struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedText) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.WriteString(s)
}

func (l *lockedText) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type proc struct {
	cmd    *exec.Cmd
	addr   string
	stderr *lockedText // everything read from stderr so far
	lines  chan string
	done   chan error
}

var fastHash = []string{"--password-memory-kib", "8192", "--password-iterations", "1"}

// startServer runs `herd server` and waits for its listening log line.
func startServer(t *testing.T, dataDir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"server", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--log-format", "json"}, fastHash...)
	p := launch(t, append(args, extra...)...)
	deadline := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("server exited before listening: %v\n%s", <-p.done, p.stderr)
			}
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "herd server listening" {
				p.addr = rec.Addr
				return p
			}
		case <-deadline:
			t.Fatalf("server did not start:\n%s", p.stderr)
		}
	}
}

func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "HERD_TEST_RUN_MAIN=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &lockedText{}, lines: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.stderr.add(sc.Text() + "\n")
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // os.ErrProcessDone once it has exited
	return p
}

// wait drains stderr and returns the exit error.
func (p *proc) wait(t *testing.T, timeout time.Duration) error {
	t.Helper()
	timer := time.After(timeout)
	for {
		select {
		case _, ok := <-p.lines:
			if !ok {
				return <-p.done
			}
		case <-timer:
			t.Fatalf("process did not exit within %s:\n%s", timeout, p.stderr)
		}
	}
}

func get(t *testing.T, url, user, pw string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pw)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestServerLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startServer(t, dir)
	base := "http://" + p.addr

	// First start: the admin password is printed once and written 0600.
	pwBytes, err := os.ReadFile(filepath.Join(dir, "initial-admin-password"))
	if err != nil {
		t.Fatal(err)
	}
	pw := strings.TrimSpace(string(pwBytes))
	if !strings.Contains(p.stderr.String(), "password: "+pw) {
		t.Fatalf("password not printed:\n%s", p.stderr)
	}
	for _, f := range []string{"initial-admin-password", "master.key"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v", f, info.Mode().Perm(), err)
		}
	}
	if info, _ := os.Stat(dir); info.Mode().Perm() != 0o700 {
		t.Fatalf("data dir mode %v", info.Mode().Perm())
	}
	if got := get(t, base+"/healthz", "", ""); got != 200 {
		t.Fatalf("healthz %d", got)
	}
	if got := get(t, base+"/readyz", "", ""); got != 200 {
		t.Fatalf("readyz %d", got)
	}
	if got := get(t, base+"/gateway/authtkn/knoxtoken/api/v1/token", "admin", pw); got != 200 {
		t.Fatalf("token %d", got)
	}
	// The password never reaches the logs: only the banner has it.
	if n := strings.Count(p.stderr.String(), pw); n != 1 {
		t.Fatalf("password appears %d times on stderr", n)
	}

	// A second server on the same data directory is refused.
	second := launch(t, append([]string{"server", "--addr", "127.0.0.1:0", "--data-dir", dir}, fastHash...)...)
	if err := second.wait(t, 20*time.Second); err == nil || !strings.Contains(second.stderr.String(), "in use by another herd server") {
		t.Fatalf("second server: %v\n%s", err, second.stderr)
	}

	// SIGTERM: a clean stop with exit code 0.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 20*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "herd server stopped") {
		t.Fatalf("no clean stop logged:\n%s", p.stderr)
	}

	// Restart: no new admin, same password; SIGINT stops it too.
	p = startServer(t, dir)
	if strings.Contains(p.stderr.String(), "created the first user") {
		t.Fatal("admin created again")
	}
	if got := get(t, "http://"+p.addr+"/gateway/authtkn/knoxtoken/api/v1/token", "admin", pw); got != 200 {
		t.Fatalf("token after restart %d", got)
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := p.wait(t, 20*time.Second); err != nil {
		t.Fatalf("exit after SIGINT: %v", err)
	}
}

// kill -9 at any moment loses nothing accepted: users and keys created
// before the kill are there after the restart, and the lock is released.
func TestKillNine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startServer(t, dir)
	pwBytes, _ := os.ReadFile(filepath.Join(dir, "initial-admin-password"))
	pw := strings.TrimSpace(string(pwBytes))
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/herd/v1/users", strings.NewReader(`{"name":"bob","password":"bob-secret-1"}`))
	req.SetBasicAuth("admin", pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("create user: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t, 20*time.Second)

	p = startServer(t, dir)
	if got := get(t, "http://"+p.addr+"/gateway/authtkn/knoxtoken/api/v1/token", "bob", "bob-secret-1"); got != 200 {
		t.Fatalf("bob after kill -9: %d", got)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 20*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"server", "--addr"}, {"nope"}, {"server", "--token-ttl", "forever"}} {
		p := launch(t, args...)
		err := p.wait(t, 20*time.Second)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(p.stderr.String(), "herd:") {
			t.Fatalf("%v: exit %v, stderr %q; want exit status 2 with a message", args, err, p.stderr)
		}
	}
}

// kill -9 in the middle of an upload: after the restart the file that was
// uploaded before is whole, the interrupted one is absent, and nothing of
// it is left on disk.
func TestKillNineDuringUpload(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startServer(t, dir)
	base := "http://" + p.addr
	pwBytes, _ := os.ReadFile(filepath.Join(dir, "initial-admin-password"))
	token := cdeToken(t, base, strings.TrimSpace(string(pwBytes)))
	api := base + "/dex/api/v1"
	do := func(method, path, contentType string, body io.Reader) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, api+path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, b := do("POST", "/resources", "application/json", strings.NewReader(`{"name":"r"}`)); status != http.StatusCreated {
		t.Fatalf("create resource: %d %s", status, b)
	}
	var whole bytes.Buffer
	mw := multipart.NewWriter(&whole)
	fw, _ := mw.CreateFormFile("file", "a")
	fw.Write([]byte("complete"))
	mw.Close()
	if status, b := do("PUT", "/resources/r/done.txt", mw.FormDataContentType(), &whole); status != http.StatusCreated {
		t.Fatalf("first upload: %d %s", status, b)
	}

	// An upload that is still streaming when the server dies.
	pr, pw := io.Pipe()
	mw = multipart.NewWriter(pw)
	started := make(chan struct{})
	go func() {
		fw, _ := mw.CreateFormFile("file", "b")
		fw.Write(bytes.Repeat([]byte("x"), 4<<20))
		close(started)
		time.Sleep(time.Minute) // never finishes
	}()
	go func() {
		req, _ := http.NewRequest("PUT", api+"/resources/r/half.bin", pr)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	deadline := time.Now().Add(10 * time.Second)
	for !hasTemp(filepath.Join(dir, "blobs")) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !hasTemp(filepath.Join(dir, "blobs")) {
		t.Fatal("the upload never reached the disk")
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t, 20*time.Second)
	pw.CloseWithError(io.ErrClosedPipe)

	p = startServer(t, dir)
	base = "http://" + p.addr
	api = base + "/dex/api/v1"
	if hasTemp(filepath.Join(dir, "blobs")) {
		t.Fatal("the interrupted upload is still on disk after the restart")
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "blobs"))
	if len(entries) != 1 {
		t.Fatalf("blobs after restart: %v", entries)
	}
	if status, body := do("GET", "/resources/r/done.txt", "", nil); status != http.StatusOK || body != "complete" {
		t.Fatalf("completed upload after kill -9: %d %q", status, body)
	}
	if status, _ := do("GET", "/resources/r/half.bin", "", nil); status != http.StatusNotFound {
		t.Fatalf("interrupted upload: %d", status)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 20*time.Second); err != nil {
		t.Fatal(err)
	}
}

func hasTemp(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			return true
		}
	}
	return false
}

func cdeToken(t *testing.T, base, pw string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/gateway/authtkn/knoxtoken/api/v1/token", nil)
	req.SetBasicAuth("admin", pw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || tr.AccessToken == "" {
		t.Fatalf("token: %v", err)
	}
	return tr.AccessToken
}
