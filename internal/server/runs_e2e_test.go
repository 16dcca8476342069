package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herdhq/herd/internal/api/cde"
	"github.com/herdhq/herd/internal/runner"
	"github.com/herdhq/herd/internal/server/servertest"
)

// requireSpark skips a test that needs the Spark runtime and the example
// jar when make setup has not installed them, unless HERD_REQUIRE_COMPAT=1
// (as make test sets), which makes it fail instead. It returns the jar.
func requireSpark(t *testing.T) []byte {
	t.Helper()
	root := servertest.ModuleRoot()
	jar, err := os.ReadFile(filepath.Join(root, "build", "spark-examples.jar"))
	if err == nil {
		_, err = os.Stat(filepath.Join(root, ".venv", "bin", "python"))
	}
	if err != nil {
		if os.Getenv("HERD_REQUIRE_COMPAT") == "1" {
			t.Fatalf("the Spark runtime is not installed (%v): run make setup", err)
		}
		t.Skipf("the Spark runtime is not installed (%v): run make setup", err)
	}
	return jar
}

// isolation reports whether this machine can isolate run secrets, as the
// server's runner finds.
func isolation(t *testing.T) (bool, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return runner.New(exe, nil).Isolation()
}

func (c *cdeClient) run(id int64) cde.Run {
	c.t.Helper()
	return decode[cde.Run](c.t, c.must(http.StatusOK, http.MethodGet, "/job-runs/"+strconv.FormatInt(id, 10), ""))
}

// waitRun polls a run until done says so, failing after timeout.
func (c *cdeClient) waitRun(id int64, timeout time.Duration, what string, done func(cde.Run) bool) cde.Run {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := c.run(id)
		if done(r) {
			return r
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("run %d: not %s after %s: %+v\n%s", id, what, timeout, r, c.log(id, "driver/stderr"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ended(r cde.Run) bool {
	switch r.Status {
	case "succeeded", "failed", "killed", "unknown":
		return true
	}
	return false
}

// log returns one log of a run, or the error answer.
func (c *cdeClient) log(id int64, typ string) string {
	c.t.Helper()
	_, b := c.do(http.MethodGet, fmt.Sprintf("/job-runs/%d/logs?type=%s", id, url.QueryEscape(typ)), "")
	return string(b)
}

// executorLogs returns every executor log of a run, each after a line
// that names it, failing unless there is at least one.
func (c *cdeClient) executorLogs(id int64) string {
	c.t.Helper()
	var types []cde.LogType
	if err := json.Unmarshal(c.must(http.StatusOK, http.MethodGet, fmt.Sprintf("/job-runs/%d/log-types", id), ""), &types); err != nil {
		c.t.Fatal(err)
	}
	var b strings.Builder
	for _, lt := range types {
		if strings.HasPrefix(lt.Type, "executor_") {
			fmt.Fprintf(&b, "--- %s ---\n%s", lt.Type, c.must(http.StatusOK, http.MethodGet, fmt.Sprintf("/job-runs/%d/logs?type=%s", id, lt.Type), ""))
		}
	}
	if b.Len() == 0 {
		c.t.Fatalf("run %d has no executor logs: %v", id, types)
	}
	return b.String()
}

// processesUnder lists the live processes whose command line or working
// directory mentions dir.
func processesUnder(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if bytes.Contains(cmdline, []byte(dir)) || strings.HasPrefix(cwd, dir) {
			out = append(out, e.Name()+": "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return out
}

// Real Spark runs through the API: the example SparkPi jar started by a
// schedule; a PySpark job with a module of its resource, a python-env
// built from requirements.txt and a workload secret read in the driver and
// the executors, killed with its whole process tree; a failing job that
// also shows that another run's secret is out of its reach; the requestID
// rule. Four JVMs in all.
func TestSparkRuns(t *testing.T) {
	jar := requireSpark(t)
	isolated, why := isolation(t)
	env := servertest.StartWithClock(t, servertest.WallClock())
	c := newCDEClient(t, env, "admin", env.AdminPassword)

	// The resources: the jar, the PySpark code, a python-env.
	c.must(http.StatusCreated, http.MethodPost, "/resources", `{"name": "examples"}`)
	if st, b := c.upload("examples", "spark-examples.jar", jar); st != http.StatusCreated {
		t.Fatalf("upload jar: %d %s", st, b)
	}
	c.must(http.StatusCreated, http.MethodPost, "/resources", `{"name": "code"}`)
	for _, f := range []string{"secret_job.py", "probe_job.py", "lib/helper.py"} {
		b, err := os.ReadFile(filepath.Join("testdata", "spark", f))
		if err != nil {
			t.Fatal(err)
		}
		if st, body := c.upload("code", f, b); st != http.StatusCreated {
			t.Fatalf("upload %s: %d %s", f, st, body)
		}
	}
	c.must(http.StatusCreated, http.MethodPost, "/resources", `{"name": "pyenv", "type": "python-env", "pythonEnv": {"pythonVersion": "python3"}}`)
	if st, b := c.upload("pyenv", "requirements.txt", []byte("tabulate==0.9.0\n")); st != http.StatusCreated {
		t.Fatalf("upload requirements: %d %s", st, b)
	}
	c.must(http.StatusCreated, http.MethodPost, "/credentials", `{"name": "db", "type": "workload-credential", "workloadCred": {"password": "Xy7-very-secret-9Q"}}`)

	// SparkPi, run by a schedule every minute that starts at this minute
	// and ends before the next: catch-up owes it exactly one run, for the
	// cron time that is its start.
	start := time.Now().UTC().Truncate(time.Minute)
	c.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "pi", "type": "spark",
		"mounts": [{"resourceName": "examples", "dirPrefix": "/jars"}],
		"spark": {"file": "jars/spark-examples.jar", "className": "org.herd.examples.SparkPi", "args": ["{{ slices }}"]},
		"defaultVariables": {"slices": "4"},
		"schedule": {"enabled": true, "user": "etl-bot", "cronExpression": "* * * * *", "catchup": true,
			"start": "`+start.Format(time.RFC3339)+`", "end": "`+start.Add(30*time.Second).Format(time.RFC3339)+`"}}`)

	// The PySpark job with its secret, waiting for its environment.
	c.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "secret", "type": "spark",
		"mounts": [{"resourceName": "code"}], "workloadCredentials": ["db"],
		"spark": {"file": "secret_job.py", "pyFiles": ["lib/helper.py"], "pythonEnvResourceName": "pyenv", "args": ["{{ who }}"],
			"conf": {"spark.eventLog.enabled": "false"}}}`)
	secretID := decode[cde.RunID](t, c.must(http.StatusCreated, http.MethodPost, "/jobs/secret/run", `{"variables": {"who": "e2e"}, "requestID": "secret-1"}`)).ID
	// The requestID rule: a repeat starts nothing and names the first run.
	dup := errorBody(t, c.must(http.StatusConflict, http.MethodPost, "/jobs/secret/run", `{"requestID": "secret-1"}`))
	if dup["id"] != float64(secretID) {
		t.Fatalf("repeated requestID: %v, want id %d", dup, secretID)
	}

	// The scheduled SparkPi run.
	var piID int64
	deadline := time.Now().Add(time.Minute)
	for piID == 0 {
		list := decode[cde.RunList](t, c.must(http.StatusOK, http.MethodGet, "/job-runs?filter=job%5Beq%5Dpi&orderby=ID", ""))
		if len(list.Runs) > 0 {
			piID = list.Runs[0].ID
			if list.Runs[0].User != "etl-bot" || len(list.Runs) != 1 || list.Runs[0].RequestID != fmt.Sprintf("scheduled:pi:%d", start.Unix()) {
				t.Fatalf("scheduled runs %+v, want one of user etl-bot for %s", list.Runs, start)
			}
		} else if time.Now().After(deadline) {
			t.Fatal("the schedule started no run")
		}
		time.Sleep(200 * time.Millisecond)
	}
	pi := c.waitRun(piID, 3*time.Minute, "ended", ended)
	if pi.Status != "succeeded" || pi.ExitCode == nil || *pi.ExitCode != 0 {
		t.Fatalf("SparkPi run: %+v\n%s", pi, c.log(piID, "driver/stderr"))
	}
	if out := c.log(piID, "driver/stdout"); !regexp.MustCompile(`Pi is roughly 3\.1`).MatchString(out) {
		t.Errorf("SparkPi stdout: %q", out)
	}
	if !regexp.MustCompile(`^local-\d+$`).MatchString(pi.Spark.SparkAppID) || !strings.HasPrefix(pi.Spark.SparkAppURL, "http://127.0.0.1:") {
		t.Errorf("SparkPi application %q at %q", pi.Spark.SparkAppID, pi.Spark.SparkAppURL)
	}
	if pi.Spark.Spec.ClassName != "org.herd.examples.SparkPi" || fmt.Sprint(pi.Spark.Spec.Args) != "[4]" {
		t.Errorf("SparkPi spec %+v", pi.Spark.Spec)
	}
	if ev := c.log(piID, "driver/event"); !strings.Contains(ev, "SparkListenerApplicationEnd") {
		t.Errorf("event log without the application's end: %.300s", ev)
	}
	types := decode[[]cde.LogType](t, c.must(http.StatusOK, http.MethodGet, fmt.Sprintf("/job-runs/%d/log-types", piID), ""))
	if fmt.Sprint(types) != "[{driver/stdout} {driver/stderr} {submitter/jobs_api} {driver/event}]" {
		t.Errorf("log types %v", types)
	}

	// The python-env was built, and the secret run started with it.
	pyenv := decode[cde.Resource](t, c.must(http.StatusOK, http.MethodGet, "/resources/pyenv", ""))
	if pyenv.Status != "ready" || pyenv.PythonEnvInfo == nil || pyenv.PythonEnvInfo.NumberOfPackages < 1 {
		t.Fatalf("python-env %+v %+v\n%s", pyenv, pyenv.PythonEnvInfo, c.must(http.StatusOK, http.MethodGet, "/resources/pyenv/build-log", ""))
	}
	if blog := string(c.must(http.StatusOK, http.MethodGet, "/resources/pyenv/build-log", "")); !strings.Contains(blog, "tabulate") {
		t.Errorf("build log: %s", blog)
	}
	if !isolated {
		// Without isolation the run must refuse rather than leak.
		r := c.waitRun(secretID, 2*time.Minute, "ended", ended)
		if r.Status != "failed" || !strings.Contains(r.StatusReason, "cannot keep workload secrets private") {
			t.Fatalf("secret run on a machine without isolation (%s): %+v", why, r)
		}
		return
	}
	// Live logs: the run prints what it read, then blocks.
	deadline = time.Now().Add(3 * time.Minute)
	for !strings.Contains(c.log(secretID, "driver/stdout"), "READY") {
		if r := c.run(secretID); ended(r) || time.Now().After(deadline) {
			t.Fatalf("secret run did not get ready: %+v\n%s", r, c.log(secretID, "driver/stderr"))
		}
		time.Sleep(300 * time.Millisecond)
	}
	out := c.log(secretID, "driver/stdout")
	for _, want := range []string{"driver read: tag:*****", "executors read: tag:*****\n", "args  e2e"} {
		if !strings.Contains(out, want) {
			t.Errorf("secret run stdout lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat("/etc/dex/secrets/db/password"); err == nil {
		t.Error("the host sees the run's secret")
	}

	// The failing job, which also looks for the live run's secret.
	c.must(http.StatusCreated, http.MethodPost, "/jobs", `{"name": "probe", "type": "spark",
		"mounts": [{"resourceName": "code"}], "spark": {"file": "probe_job.py"}}`)
	probeID := decode[cde.RunID](t, c.must(http.StatusCreated, http.MethodPost, "/jobs/probe/run", "")).ID
	probe := c.waitRun(probeID, 3*time.Minute, "ended", ended)
	if probe.Status != "failed" || probe.ExitCode == nil || *probe.ExitCode != 3 ||
		!strings.Contains(probe.StatusReason, "status 3") || !strings.Contains(probe.LogTail, "failing on purpose") {
		t.Errorf("failing run: %+v", probe)
	}
	if out := c.log(probeID, "driver/stdout"); !strings.Contains(out, "secret visible: False") {
		t.Errorf("another run sees the secret: %q", out)
	}

	// Kill: the run ends killed, and every process of it is gone.
	running := c.run(secretID)
	if running.Status != "running" {
		t.Fatalf("secret run %+v", running)
	}
	// Without an event log (the job's conf wins), the live UI names the
	// application.
	running = c.waitRun(secretID, 10*time.Second, "named", func(r cde.Run) bool { return r.Spark.SparkAppID != "" })
	if !regexp.MustCompile(`^local-\d+$`).MatchString(running.Spark.SparkAppID) {
		t.Errorf("application of the run without an event log: %q", running.Spark.SparkAppID)
	}
	types = decode[[]cde.LogType](t, c.must(http.StatusOK, http.MethodGet, fmt.Sprintf("/job-runs/%d/log-types", secretID), ""))
	if fmt.Sprint(types) != "[{driver/stdout} {driver/stderr} {submitter/jobs_api}]" {
		t.Errorf("log types without an event log: %v", types)
	}
	runDir := filepath.Join(env.DataDir, "runs", strconv.FormatInt(secretID, 10))
	if procs := processesUnder(t, env.DataDir); len(procs) < 3 {
		t.Errorf("expected the run's wrapper, JVM and Python processes, found %q", procs)
	}
	c.must(http.StatusOK, http.MethodPost, fmt.Sprintf("/job-runs/%d/kill", secretID), "")
	killed := c.waitRun(secretID, time.Minute, "ended", ended)
	if killed.Status != "killed" {
		t.Fatalf("killed run: %+v", killed)
	}
	if procs := processesUnder(t, env.DataDir); len(procs) > 0 {
		t.Errorf("processes of the killed run are left: %q", procs)
	}
	if _, err := os.Stat(filepath.Join(runDir, "tmp")); err == nil {
		t.Error("the killed run's scratch directory is left")
	}

	// Nothing returned the secret.
	for _, path := range []string{"/job-runs", fmt.Sprintf("/job-runs/%d", secretID), fmt.Sprintf("/job-runs/%d/logs?type=driver%%2Fstderr", secretID),
		fmt.Sprintf("/job-runs/%d/logs?type=submitter%%2Fjobs_api", secretID), fmt.Sprintf("/job-runs/%d/logs?type=driver%%2Fevent", secretID)} {
		if _, b := c.do(http.MethodGet, path, ""); bytes.Contains(b, []byte("Xy7-very-secret-9Q")) {
			t.Errorf("GET %s returns the secret", path)
		}
	}
	if strings.Contains(env.Logs(), "Xy7-very-secret-9Q") {
		t.Error("the server log holds the secret")
	}
}
