package eco

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/herdhq/herd/internal/fileutil"
	"github.com/herdhq/herd/internal/store"
)

// Task statuses.
const (
	TaskRunning   = "Running"
	TaskSucceeded = "Succeeded"
	TaskFailed    = "Failed"
)

// runTask runs the cluster's user task on its master once it is Running:
// a Spark application (spark-submit of the jar at fileUrl) or a Hive
// query (hiveQuery, or the file at fileUrl) through Spark SQL, on the
// cluster's own Spark master and HDFS. Its log goes to the object store
// under <logBucketName>/HadoopEco/<cluster name>/. Then the termination
// policy applies.
func (s *Service) runTask(ctx context.Context, c Cluster) {
	t := c.Spec.Task
	if err := s.setStatus(ctx, c.ID, func(r *store.EcoClusterRow) { r.TaskStatus = TaskRunning }); err != nil {
		s.log.Error("user task", "cluster", c.Name, "err", err)
		return
	}
	tctx, cancel := context.WithTimeout(ctx, taskTimeout)
	out, err := s.execTask(tctx, c)
	cancel()
	if ctx.Err() != nil {
		return // the server is stopping; the next start settles it
	}
	status := TaskSucceeded
	if err != nil {
		status = TaskFailed
		out = append(out, []byte("\n[herd] the task failed: "+err.Error()+"\n")...)
	}
	logPath, lerr := s.storeTaskLog(c, out)
	if lerr != nil {
		s.log.Error("store the task log", "cluster", c.Name, "err", lerr)
	}
	s.log.Info("user task ended", "cluster", c.Name, "type", t.Type, "status", status)
	terminate := t.TerminationPolicy == "always" || t.TerminationPolicy == "onSuccess" && status == TaskSucceeded
	if err := s.setStatus(ctx, c.ID, func(r *store.EcoClusterRow) {
		r.TaskStatus, r.TaskLog = status, logPath
		if terminate {
			r.Status = StatusTerminating
		} else {
			r.Changing = false
		}
	}); err != nil {
		s.log.Error("user task", "cluster", c.Name, "err", err)
		return
	}
	if terminate {
		s.teardown(ctx, c.ID, StatusTerminatedUser, "")
	}
}

// execTask runs the task's command on the master VM and returns its
// output.
func (s *Service) execTask(ctx context.Context, c Cluster) ([]byte, error) {
	if s.cfg.SparkHome == nil {
		return nil, errors.New("no Spark runtime is configured for tasks")
	}
	home, err := s.cfg.SparkHome(ctx)
	if err != nil {
		return nil, fmt.Errorf("find the Spark runtime: %w", err)
	}
	var master store.EcoVMRow
	for _, v := range c.LiveVMs() {
		if v.IsMaster {
			master = v
		}
	}
	t := c.Spec.Task
	var file string
	if t.FileURL != "" {
		if file, err = s.taskFile(ctx, c, t.FileURL); err != nil {
			return nil, err
		}
	}
	script := taskScript(home, master.Address, *t, file)
	out, err := s.cfg.Provider.Exec(ctx, master.InstanceID, []byte(script))
	return append([]byte("$ "+strings.ReplaceAll(strings.TrimSpace(script), "\n", "\n$ ")+"\n"), out...), err
}

// taskFile fetches the task's file next to the cluster's task logs.
func (s *Service) taskFile(ctx context.Context, c Cluster, raw string) (string, error) {
	if p, ok := strings.CutPrefix(raw, "file://"); ok {
		return p, nil
	}
	b, err := fetchLimit(ctx, "userTask.fileUrl", raw, maxTaskFile)
	if err != nil {
		return "", err
	}
	p := filepath.Join(s.cfg.TaskDir, c.ID, filepath.Base(raw))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", err
	}
	return p, fileutil.WriteFileAtomic(p, b, 0o600)
}

// maxTaskFile bounds a task's jar or query file.
const maxTaskFile = 512 << 20

// taskScript is the shell script that runs a task on the master: the
// cluster's Spark master and HDFS, whatever master execOpts names (the
// seed's examples say yarn; Herd's clusters run Spark standalone).
func taskScript(sparkHome, master string, t UserTask, file string) string {
	conf := []string{
		"--master", "spark://" + master + ":7077",
		"--conf", "spark.hadoop.fs.defaultFS=hdfs://" + master + ":8020",
		"--conf", "spark.hadoop.dfs.client.use.datanode.hostname=true",
		"--conf", "spark.executor.memory=512m", "--conf", "spark.driver.memory=512m",
	}
	var argv []string
	opts := strings.Fields(t.ExecOpts)
	switch t.Type {
	case "spark":
		mode := t.DeployMode
		if mode == "" {
			mode = "client"
		}
		argv = append([]string{filepath.Join(sparkHome, "bin", "spark-submit"), "--deploy-mode", mode}, conf...)
		argv = append(argv, dropOpts(opts, "--master", "--deploy-mode")...)
		argv = append(argv, file)
		argv = append(argv, strings.Fields(t.ExecParams)...)
	case "hive":
		argv = append([]string{filepath.Join(sparkHome, "bin", "spark-sql")}, conf...)
		// As Hive does: a CREATE TABLE without USING makes a Hive text table.
		argv = append(argv, "--conf", "spark.sql.warehouse.dir=hdfs://"+master+":8020/user/hive/warehouse",
			"--conf", "spark.sql.legacy.createHiveTableByDefault=true",
			"--conf", "spark.driver.extraJavaOptions=-Dderby.system.home=metastore")
		argv = append(argv, hiveConfs(opts)...)
		if t.HiveQuery != "" {
			argv = append(argv, "-e", t.HiveQuery)
		} else {
			argv = append(argv, "-f", file)
		}
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return "set -e\nexport SPARK_LOCAL_IP=" + shellQuote(master) + "\ncd \"$HOME\"\nexec " + strings.Join(quoted, " ") + "\n"
}

// dropOpts removes options (with their values) from a command line.
func dropOpts(opts []string, names ...string) []string {
	var out []string
	for i := 0; i < len(opts); i++ {
		if contains(names, opts[i]) {
			i++ // its value
			continue
		}
		if name, _, ok := strings.Cut(opts[i], "="); ok && contains(names, name) {
			continue
		}
		out = append(out, opts[i])
	}
	return out
}

// hiveConfs keeps the --hiveconf key=value pairs of Hive options (a
// --hiveconf without a value, as in the seed's example, is dropped).
func hiveConfs(opts []string) []string {
	var out []string
	for i := 0; i < len(opts); i++ {
		if opts[i] == "--hiveconf" && i+1 < len(opts) && strings.Contains(opts[i+1], "=") {
			out = append(out, "--hiveconf", opts[i+1])
			i++
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// storeTaskLog puts the task's log into the object store under
// <logBucketName>/HadoopEco/<cluster name>/ (bucket "hadoop-eco-logs" when
// the request names none) and returns its path there.
func (s *Service) storeTaskLog(c Cluster, out []byte) (string, error) {
	bucket := c.Spec.Task.LogBucketName
	if bucket == "" {
		bucket = "hadoop-eco-logs"
	}
	name := fmt.Sprintf("%s-%s.log", c.Spec.Task.Type, s.cfg.Now().UTC().Format("20060102T150405Z"))
	rel := filepath.Join(bucket, "HadoopEco", c.Name, name)
	p := filepath.Join(s.cfg.ObjectStoreDir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", err
	}
	return rel, fileutil.WriteFileAtomic(p, out, 0o600)
}

// taskTimeout bounds a user task.
const taskTimeout = time.Hour
