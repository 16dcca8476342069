package jobs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/fileutil"

	"github.com/herdhq/herd/internal/runner"
	"github.com/herdhq/herd/internal/sparkrt"
	"github.com/herdhq/herd/internal/store"
)

// Layout of a run's directory, <data-dir>/runs/<id>.
const (
	appDir       = "app"    // the mounted resources; the command's working directory
	logsDir      = "logs"   // driver.stdout, driver.stderr, submitter.log
	eventsDir    = "events" // the Spark event log
	tmpDir       = "tmp"    // TMPDIR and Spark's local directories
	driverStdout = "logs/driver.stdout"
	driverStderr = "logs/driver.stderr"
	submitterLog = "logs/submitter.log"
)

func (s *Service) runDir(id int64) string {
	return filepath.Join(s.cfg.DataDir, "runs", strconv.FormatInt(id, 10))
}

// launch starts a waiting run. It reports false when the run did not
// start: it ended (a failure is recorded with its reason) or must wait.
func (s *Service) launch(ctx context.Context, a *activeRun) bool {
	row, err := s.db.Read().GetRun(ctx, a.vc, a.id)
	if err != nil || row.Status != RunStarting {
		return false
	}
	if !row.KillRequestedAt.IsZero() { // killed while the dispatcher took it up
		err := s.db.InTx(ctx, func(q *store.Queries) error {
			return q.EndRun(ctx, a.vc, a.id, RunKilled, s.now(), nil, "killed before it started", "")
		})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			s.log.Error("record kill of a run", "run", a.id, "err", err)
		}
		return false
	}
	r, err := runFromRow(row)
	if err != nil {
		s.failLaunch(ctx, r, err)
		return false
	}
	python, wait, err := s.runPython(ctx, r)
	switch {
	case wait:
		return false
	case err != nil:
		s.failLaunch(ctx, r, err)
		return false
	}
	spec, sealed, err := s.prepareRun(ctx, r, python)
	if err != nil {
		s.failLaunch(ctx, r, err)
		return false
	}
	if sealed != nil { // recorded first, so that its logs are cleaned whatever happens
		if err := s.db.InTx(ctx, func(q *store.Queries) error { return q.SetRunSecrets(ctx, r.vc, r.ID, sealed) }); err != nil {
			s.failLaunch(ctx, r, err)
			return false
		}
	}
	proc, err := s.cfg.Runner.Start(spec)
	if err != nil {
		s.failLaunch(ctx, r, fmt.Errorf("start spark-submit: %w", err))
		return false
	}
	s.submitterLog(r.ID, "started: process %d", proc.Pid())
	if err := s.db.InTx(ctx, func(q *store.Queries) error { return q.MarkRunStarted(ctx, r.vc, r.ID, s.now()) }); err != nil {
		s.log.Error("record start of run", "run", r.ID, "err", err)
	}
	s.dispatch.mu.Lock()
	a.proc = proc
	kill := a.kill
	s.dispatch.mu.Unlock()
	if kill {
		go s.dispatch.stop(proc, r.ID)
	}
	s.log.Info("run started", "run", r.ID, "job", r.Job, "pid", proc.Pid())
	go s.dispatch.watch(ctx, a, r)
	return true
}

// failLaunch ends a run that could not start.
func (s *Service) failLaunch(ctx context.Context, r Run, cause error) {
	reason := "could not start: " + cause.Error()
	s.submitterLog(r.ID, "%s", reason)
	err := s.db.InTx(ctx, func(q *store.Queries) error {
		return q.EndRun(ctx, r.vc, r.ID, RunFailed, s.now(), nil, reason, "")
	})
	if err != nil && !errors.Is(err, store.ErrConflict) {
		s.log.Error("record failed start of run", "run", r.ID, "err", err)
	}
	s.log.Warn("run could not start", "run", r.ID, "job", r.Job, "reason", reason)
}

// runPython picks the Python of a run: its python-env's when it names one
// (wait says the environment is still being built), else the runtime's.
func (s *Service) runPython(ctx context.Context, r Run) (python string, wait bool, err error) {
	rt, err := s.cfg.Runtime()
	if err != nil {
		return "", false, runtimeMissing(err)
	}
	name := r.Spec.Spark.PythonEnvResourceName
	if name == "" {
		return rt.Python, false, nil
	}
	res, err := s.db.Read().GetResource(ctx, r.vc, name)
	if err != nil {
		return "", false, fmt.Errorf("python-env resource %q: %w", name, notFound(err, "resource", name))
	}
	b := decodeBuild(res.Build)
	switch res.Status {
	case StatusReady:
		return filepath.Join(b.Venv, "bin", "python"), false, nil
	case StatusBuildFailed:
		return "", false, fmt.Errorf("python-env resource %q failed to build: %s", name, b.StatusReason)
	case StatusPendingBuild:
		if _, err := s.db.Read().GetResourceFile(ctx, r.vc, name, RequirementsFile); errors.Is(err, store.ErrNotFound) {
			return "", false, fmt.Errorf("python-env resource %q has no %s to build from", name, RequirementsFile)
		}
		return "", true, nil
	default:
		return "", true, nil
	}
}

// prepareRun lays out the run's directory (its mounts as hard links to the
// stored files), reads its secrets, and builds the spark-submit command.
// It returns the secrets sealed, for cleaning them out of logs later.
func (s *Service) prepareRun(ctx context.Context, r Run, python string) (runner.Spec, []byte, error) {
	rt, err := s.cfg.Runtime()
	if err != nil {
		return runner.Spec{}, nil, runtimeMissing(err)
	}
	vc, err := s.VirtualCluster(ctx, r.vc)
	if err != nil {
		return runner.Spec{}, nil, err
	}
	dir := s.runDir(r.ID)
	for _, sub := range []string{appDir, logsDir, eventsDir, tmpDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return runner.Spec{}, nil, fmt.Errorf("make the run directory: %w", err)
		}
	}
	if err := s.mount(ctx, r, filepath.Join(dir, appDir)); err != nil {
		return runner.Spec{}, nil, err
	}
	secrets := map[string]map[string]string{}
	for _, c := range r.Spec.WorkloadCredentials {
		sec, err := s.Secret(ctx, r.vc, c)
		if err != nil {
			return runner.Spec{}, nil, fmt.Errorf("workload credential %q: %w", c, err)
		}
		secrets[c] = sec.Values
	}
	var sealed []byte
	if len(secrets) > 0 {
		if !isLocalMaster(vc.SparkMaster) {
			// Executors on the master's workers run outside the run's
			// private mount namespace: they could not read the secrets.
			return runner.Spec{}, nil, fmt.Errorf("workload credentials need a local master: the executors of virtual cluster %q run on the workers of %s, outside the run's private secrets mount; refusing to run a job with credentials there", vc.ID, vc.SparkMaster)
		}
		if ok, why := s.cfg.Runner.Isolation(); !ok {
			return runner.Spec{}, nil, fmt.Errorf("this machine cannot keep workload secrets private to a run (%s); refusing to run a job with credentials", why)
		}
		plain, err := json.Marshal(secrets)
		if err != nil {
			return runner.Spec{}, nil, fmt.Errorf("encode secrets: %w", err)
		}
		if sealed, err = s.kr.Seal(runSecretsContext(r.ID), plain); err != nil {
			return runner.Spec{}, nil, err
		}
	}
	argv := sparkSubmit(rt, vc.SparkMaster, r, dir, python)
	env := runEnv(rt, vc.SparkMaster, dir, python)
	s.submitterLog(r.ID, "spark-submit: %s", strings.Join(argv, " "))
	s.submitterLog(r.ID, "environment: %s", strings.Join(env, " "))
	return runner.Spec{
		Dir: dir, Command: argv, Env: env, Cwd: filepath.Join(dir, appDir),
		Stdout: filepath.Join(dir, driverStdout), Stderr: filepath.Join(dir, driverStderr),
		Secrets: secrets,
	}, sealed, nil
}

func runSecretsContext(id int64) string { return "run-secrets/" + strconv.FormatInt(id, 10) }

// mount makes every mounted resource's files appear under root/<dirPrefix>,
// as hard links to the stored files (copies across file systems).
func (s *Service) mount(ctx context.Context, r Run, root string) error {
	for _, m := range r.Spec.Mounts {
		files, err := s.db.Read().ListResourceFiles(ctx, r.vc, m.ResourceName)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			if _, err := s.db.Read().GetResource(ctx, r.vc, m.ResourceName); err != nil {
				return fmt.Errorf("mounted resource %q: %w", m.ResourceName, notFound(err, "resource", m.ResourceName))
			}
		}
		for _, f := range files {
			dst := filepath.Join(root, filepath.FromSlash(m.DirPrefix+f.Path))
			if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
				return fmt.Errorf("mount %s: %w", m.ResourceName, err)
			}
			src, err := s.blobs.Path(f.BlobID)
			if err != nil {
				return err
			}
			_ = os.Remove(dst) // a later mount's file wins over an earlier one's
			if err := os.Link(src, dst); err != nil {
				if err := fileutil.CopyFile(src, dst, 0o600); err != nil {
					return fmt.Errorf("mount %s/%s: %w", m.ResourceName, f.Path, err)
				}
			}
		}
	}
	return nil
}

// isLocalMaster reports whether runs of master run on this machine.
func isLocalMaster(master string) bool {
	return master == "local" || strings.HasPrefix(master, "local[")
}

// sparkSubmit builds the command line of a run: client mode against the
// virtual cluster's master, the job's sizes and conf, event logging into
// the run's directory (the Spark application id is the event log's name),
// files resolved against the mounts.
func sparkSubmit(rt sparkrt.Runtime, master string, r Run, dir, python string) []string {
	sp := r.Spec.Spark
	name := sp.Name
	if name == "" {
		name = r.Job
	}
	argv := []string{rt.SparkSubmit(), "--master", master, "--deploy-mode", "client", "--name", name}
	if sp.ClassName != "" {
		argv = append(argv, "--class", sp.ClassName)
	}
	conf := map[string]string{
		"spark.ui.showConsoleProgress":   "false",
		"spark.eventLog.enabled":         "true",
		"spark.eventLog.dir":             "file://" + filepath.Join(dir, eventsDir),
		"spark.eventLog.compress":        "false",
		"spark.eventLog.rolling.enabled": "false",
		"spark.local.dir":                filepath.Join(dir, tmpDir),
		"spark.pyspark.python":           python,
		"spark.pyspark.driver.python":    python,
		"spark.sql.warehouse.dir":        filepath.Join(dir, appDir, "spark-warehouse"),
	}
	if isLocalMaster(master) {
		conf["spark.driver.host"] = "127.0.0.1"
		conf["spark.driver.bindAddress"] = "127.0.0.1"
	}
	if sp.LogLevel != "" {
		conf["spark.log.level"] = strings.ToUpper(sp.LogLevel)
	}
	if sp.NumExecutors != nil {
		conf["spark.executor.instances"] = strconv.Itoa(*sp.NumExecutors)
	}
	for k, v := range sp.Conf { // the job's own conf wins
		conf[k] = v
	}
	keys := make([]string, 0, len(conf))
	for k := range conf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		argv = append(argv, "--conf", k+"="+conf[k])
	}
	if sp.DriverCores != nil {
		argv = append(argv, "--driver-cores", strconv.Itoa(*sp.DriverCores))
	}
	if sp.DriverMemory != "" {
		argv = append(argv, "--driver-memory", sp.DriverMemory)
	}
	if sp.ExecutorCores != nil {
		argv = append(argv, "--executor-cores", strconv.Itoa(*sp.ExecutorCores))
	}
	if sp.ExecutorMemory != "" {
		argv = append(argv, "--executor-memory", sp.ExecutorMemory)
	}
	app := filepath.Join(dir, appDir)
	for _, l := range []struct {
		flag  string
		paths []string
	}{{"--py-files", sp.PyFiles}, {"--jars", sp.Jars}, {"--files", sp.Files}} {
		if len(l.paths) > 0 {
			resolved := make([]string, len(l.paths))
			for i, p := range l.paths {
				resolved[i] = resolvePath(app, p)
			}
			argv = append(argv, l.flag, strings.Join(resolved, ","))
		}
	}
	argv = append(argv, resolvePath(app, sp.File))
	return append(argv, sp.Args...)
}

// resolvePath turns a job's file reference into what spark-submit takes:
// local:/x is the local path /x, a URL stays, anything else is a path in
// the mounts.
func resolvePath(app, p string) string {
	switch {
	case strings.HasPrefix(p, "local:"):
		return strings.TrimPrefix(p, "local:")
	case schemeRE.MatchString(p):
		return p
	default:
		return filepath.Join(app, filepath.FromSlash(p))
	}
}

// runEnv is the whole environment of a run: nothing of the server's own
// (which may hold HERD_MASTER_KEY) but PATH and locale.
func runEnv(rt sparkrt.Runtime, master, dir, python string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"LANG=C.UTF-8",
		"HOME=" + filepath.Join(dir, tmpDir),
		"TMPDIR=" + filepath.Join(dir, tmpDir),
		"SPARK_HOME=" + rt.Home,
		"SPARK_CONF_DIR=" + filepath.Join(dir, tmpDir),
		"SPARK_LOCAL_DIRS=" + filepath.Join(dir, tmpDir),
		"PYSPARK_PYTHON=" + python,
		"PYSPARK_DRIVER_PYTHON=" + python,
	}
	if rt.JavaHome != "" {
		env = append(env, "JAVA_HOME="+rt.JavaHome)
	}
	if isLocalMaster(master) {
		env = append(env, "SPARK_LOCAL_IP=127.0.0.1") // no lookup of the host's name
	}
	return env
}

// submitterLog appends a line to the run's submitter log: what Herd did.
func (s *Service) submitterLog(id int64, format string, args ...any) {
	path := filepath.Join(s.runDir(id), submitterLog)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", s.now().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}

var uiPortRE = regexp.MustCompile(`Successfully started service '?SparkUI'? on port (\d+)`)

// detectApp finds a live run's Spark application id (the name of its
// event log) and UI address (from the driver's log), and records them.
func (s *Service) detectApp(ctx context.Context, r Run) {
	dir := s.runDir(r.ID)
	// Without an event log the driver's UI is asked; not otherwise: its
	// REST API costs the driver a second of CPU on its first call.
	eventLog := r.Spec.Spark == nil || !strings.EqualFold(strings.TrimSpace(r.Spec.Spark.Conf["spark.eventLog.enabled"]), "false")
	var appID, url string
	var offset int64
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for appID == "" || url == "" {
		select {
		case <-ctx.Done():
			if appID != "" || url != "" {
				s.recordApp(context.WithoutCancel(ctx), r, appID, url)
			}
			return
		case <-t.C:
		}
		if appID == "" {
			appID = eventLogApp(filepath.Join(dir, eventsDir))
		}
		if url == "" {
			var port string
			port, offset = scanFor(filepath.Join(dir, driverStderr), offset, uiPortRE)
			if port != "" {
				url = "http://127.0.0.1:" + port
			}
		}
		if appID == "" && url != "" && !eventLog {
			appID = uiApp(ctx, url)
		}
	}
	s.recordApp(ctx, r, appID, url)
}

func (s *Service) recordApp(ctx context.Context, r Run, appID, url string) {
	if err := s.db.InTx(ctx, func(q *store.Queries) error { return q.SetRunApp(ctx, r.vc, r.ID, appID, url) }); err != nil {
		s.log.Warn("record the Spark application of a run", "run", r.ID, "err", err)
	}
}

// uiApp asks a live driver's UI for its application id.
func uiApp(ctx context.Context, base string) string {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/applications", nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var apps []struct {
		ID string `json:"id"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&apps) != nil || len(apps) == 0 {
		return ""
	}
	return apps[0].ID
}

// eventLogApp returns the application id an event log directory holds.
func eventLogApp(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		return ""
	}
	name := entries[0].Name()
	for _, suffix := range []string{".inprogress", ".zstd", ".lz4", ".snappy", ".lzf"} {
		name = strings.TrimSuffix(name, suffix)
	}
	return strings.TrimPrefix(name, "eventlog_v2_")
}

// scanFor reads a growing file from offset for the first match of re and
// returns its first group and the offset to continue from.
func scanFor(path string, offset int64, re *regexp.Regexp) (string, int64) {
	f, err := os.Open(path)
	if err != nil {
		return "", offset
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", offset
	}
	br := bufio.NewReader(f)
	for {
		line, err := br.ReadString('\n')
		if err != nil { // a partial line is read again next time
			return "", offset
		}
		offset += int64(len(line))
		if m := re.FindStringSubmatch(line); m != nil {
			return m[1], offset
		}
	}
}
