package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// moduleRoot is the directory of go.mod, two levels up from this package.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// requireVenv returns the project venv, skipping (or failing under
// HERD_REQUIRE_COMPAT=1, as make test sets) when make setup has not made it.
func requireVenv(t *testing.T) string {
	t.Helper()
	venv := filepath.Join(moduleRoot(t), ".venv")
	if _, err := os.Stat(filepath.Join(venv, "bin", "python")); err != nil {
		if os.Getenv("HERD_REQUIRE_COMPAT") == "1" {
			t.Fatal("no .venv with the Spark runtime: run make setup")
		}
		t.Skip("no .venv with the Spark runtime: run make setup")
	}
	return venv
}

// api is a minimal client of one server's jobs API.
type api struct {
	t     *testing.T
	base  string
	token string
}

func (a *api) do(method, path, contentType string, body io.Reader) (int, []byte) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+"/dex/api/v1"+path, body)
	req.Header.Set("Authorization", "Bearer "+a.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (a *api) must(want int, method, path, body string) []byte {
	a.t.Helper()
	status, b := a.do(method, path, "application/json", strings.NewReader(body))
	if status != want {
		a.t.Fatalf("%s %s: %d %s, want %d", method, path, status, b, want)
	}
	return b
}

func (a *api) upload(resource, path string, content []byte) {
	a.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "f")
	fw.Write(content)
	mw.Close()
	if status, b := a.do(http.MethodPut, "/resources/"+resource+"/"+path, mw.FormDataContentType(), &buf); status != http.StatusCreated {
		a.t.Fatalf("upload %s: %d %s", path, status, b)
	}
}

type runView struct {
	ID           int64  `json:"id"`
	Status       string `json:"status"`
	StatusReason string `json:"statusReason"`
	ExitCode     *int   `json:"exitCode"`
}

func (a *api) run(id int64) runView {
	a.t.Helper()
	var r runView
	if err := json.Unmarshal(a.must(http.StatusOK, http.MethodGet, fmt.Sprintf("/job-runs/%d", id), ""), &r); err != nil {
		a.t.Fatal(err)
	}
	return r
}

func (a *api) start(vars string) int64 {
	a.t.Helper()
	var r struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(a.must(http.StatusCreated, http.MethodPost, "/jobs/sleeper/run", `{"variables": `+vars+`}`), &r); err != nil {
		a.t.Fatal(err)
	}
	return r.ID
}

func (a *api) waitFor(id int64, timeout time.Duration, ok func(runView) bool) runView {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := a.run(id)
		if ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("run %d: still %+v after %s", id, r, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func isEnded(r runView) bool {
	return r.Status != "starting" && r.Status != "running"
}

// wrapperPid reads the pid of a run's wrapper from its pid file.
func wrapperPid(t *testing.T, dataDir string, id int64) int {
	t.Helper()
	var rec struct {
		Pid int `json:"pid"`
	}
	b, err := os.ReadFile(filepath.Join(dataDir, "runs", strconv.FormatInt(id, 10), "pid"))
	if err != nil || json.Unmarshal(b, &rec) != nil || rec.Pid == 0 {
		t.Fatalf("pid file of run %d: %v %s", id, err, b)
	}
	return rec.Pid
}

// javaChild waits for the java process the wrapper pid started.
func javaChild(t *testing.T, pid int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			child, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if err != nil {
				continue
			}
			// pid (comm) state ppid …
			rest := string(stat[bytes.LastIndexByte(stat, ')')+2:])
			fields := strings.Fields(rest)
			if len(fields) > 1 && fields[1] == strconv.Itoa(pid) && strings.Contains(string(stat), "(java)") {
				return child
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("wrapper %d started no java process", pid)
	return 0
}

func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	return len(fields) > 0 && fields[0] != "Z"
}

// processesUnder lists live processes but the server whose command line
// mentions dir.
func processesUnder(dir string, server int) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == server || !alive(pid) {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if bytes.Contains(cmdline, []byte(dir)) {
			out = append(out, e.Name()+": "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return out
}

// kill -9 of the server while runs are live: after the restart, the run
// whose process lives on is re-attached and succeeds; the run whose
// spark-submit died meanwhile ends failed with the signal; the run whose
// wrapper was killed outright ends unknown; the run that was still
// waiting starts and succeeds. Nothing stays live, no process is left.
func TestKillNineWithLiveRuns(t *testing.T) {
	venv := requireVenv(t)
	dir := filepath.Join(t.TempDir(), "data")
	flags := []string{"--spark-venv", venv, "--max-concurrent-runs", "3"}
	p := startServer(t, dir, flags...)
	pwBytes, _ := os.ReadFile(filepath.Join(dir, "initial-admin-password"))
	pw := strings.TrimSpace(string(pwBytes))
	a := &api{t: t, base: "http://" + p.addr, token: cdeToken(t, "http://"+p.addr, pw)}

	script, err := os.ReadFile(filepath.Join("testdata", "sleeper.py"))
	if err != nil {
		t.Fatal(err)
	}
	a.must(http.StatusCreated, http.MethodPost, "/resources", `{"name": "code"}`)
	a.upload("code", "sleeper.py", script)
	a.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "sleeper", "type": "spark",
		"mounts": [{"resourceName": "code"}], "spark": {"file": "sleeper.py", "args": ["{{ secs }}"]}}`)
	survivor := a.start(`{"secs": "15"}`)
	diesInside := a.start(`{"secs": "600"}`)
	wrapperKilled := a.start(`{"secs": "600"}`)
	waiting := a.start(`{"secs": "1"}`)
	for _, id := range []int64{survivor, diesInside, wrapperKilled} {
		a.waitFor(id, time.Minute, func(r runView) bool { return r.Status == "running" })
	}
	if r := a.run(waiting); r.Status != "starting" {
		t.Fatalf("the fourth run is %s, want starting (three slots)", r.Status)
	}
	survivorPid := wrapperPid(t, dir, survivor)
	java := javaChild(t, wrapperPid(t, dir, diesInside))
	otherWrapper := wrapperPid(t, dir, wrapperKilled)

	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = p.wait(t, 20*time.Second)
	if !alive(survivorPid) {
		t.Fatal("the run died with the server")
	}
	// While the server is down: one run's spark-submit dies, another run's
	// wrapper is killed outright.
	if err := syscall.Kill(java, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(otherWrapper, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	p = startServer(t, dir, flags...)
	a.base = "http://" + p.addr
	if r := a.waitFor(diesInside, 30*time.Second, isEnded); r.Status != "failed" || !strings.Contains(r.StatusReason, "signal") {
		t.Errorf("run whose spark-submit died: %+v", r)
	}
	if r := a.waitFor(wrapperKilled, 30*time.Second, isEnded); r.Status != "unknown" {
		t.Errorf("run whose wrapper was killed: %+v", r)
	}
	if r := a.waitFor(survivor, 2*time.Minute, isEnded); r.Status != "succeeded" || r.ExitCode == nil || *r.ExitCode != 0 {
		t.Errorf("re-attached run: %+v", r)
	}
	if st, out := a.do(http.MethodGet, fmt.Sprintf("/job-runs/%d/logs?type=driver%%2Fstdout", survivor), "", nil); st != 200 || !strings.Contains(string(out), "slept") {
		t.Errorf("re-attached run's stdout: %d %q", st, out)
	}
	if r := a.waitFor(waiting, 2*time.Minute, isEnded); r.Status != "succeeded" {
		t.Errorf("run accepted before the crash: %+v", r)
	}
	if procs := processesUnder(dir, p.cmd.Process.Pid); len(procs) > 0 {
		t.Errorf("processes left: %q", procs)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(t, 20*time.Second); err != nil {
		t.Fatal(err)
	}
}
